/**
 * A batch as a CAR file (CARv1, @ipld/car): the root is the batch's
 * manifest, then every record in manifest order (a depth-first walk of the
 * DAG), then, when the node holds it, the signed announcement that names
 * the manifest. Any IPFS tool reads it (`ipfs dag import`, helia's
 * @helia/car, w3up). Importing checks everything before storing anything:
 * every block against its CID and size, the manifest's fields, its Merkle
 * root over the record list, every record's decoding and source, and the
 * announcement's fields (its signature too, given the chain id).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { CarBlockIterator, CarWriter } from '@ipld/car';
import { CID } from 'multiformats/cid';
import { getAddress } from 'viem';

import { DsoError } from '../core/errors.js';
import {
  type BatchAnnouncement,
  type BatchDomain,
  decodeEnvelope,
  DEFAULT_MAX_RECORDS,
  type OpenedManifest,
  openManifest,
  verifyAnnouncement,
} from './batch.js';
import { type ContentStore, verifyBlock } from './content-store.js';

/** A CAR of the largest batch (10,000 records of about 330 bytes and its manifest) is about 4 MB. */
export const MAX_CAR_BYTES = 64 << 20;

export interface Block {
  cid: CID;
  bytes: Uint8Array;
}

/**
 * CARv1 bytes of `blocks` under `root`, produced as they are read (the
 * gateway streams them; each block is pulled when the reader wants more).
 * If `blocks` fails, the stream fails after what was written, rather than
 * ending like a complete CAR.
 */
export async function* carStream(root: CID, blocks: AsyncIterable<Block> | Iterable<Block>): AsyncGenerator<Uint8Array> {
  const { writer, out } = CarWriter.create([root]);
  let failure: Error | undefined;
  const pump = (async () => {
    try {
      for await (const b of blocks) await writer.put(b);
    } catch (e) {
      failure = e instanceof Error ? e : new Error('reading the blocks failed', { cause: e });
    } finally {
      await writer.close();
    }
  })();
  yield* out;
  await pump;
  if (failure !== undefined) throw failure;
}

function announcementOf(bytes: Uint8Array): BatchAnnouncement | undefined {
  try {
    return decodeEnvelope(bytes);
  } catch {
    return undefined;
  }
}

/** Throws BAD_PROOF unless the announcement describes this manifest. */
function checkAnnouncement(a: BatchAnnouncement, m: OpenedManifest): void {
  if (
    a.manifest !== m.cid.toString() ||
    a.network !== m.network ||
    getAddress(a.node) !== m.node ||
    a.timestamp !== m.timestamp ||
    a.count !== m.records.length ||
    a.root !== m.root
  ) {
    throw new DsoError('BAD_PROOF', `the announcement does not describe manifest ${String(m.cid)}`);
  }
}

async function need(store: ContentStore, cid: CID): Promise<Uint8Array> {
  const bytes = await store.get(cid);
  if (bytes === undefined) throw new DsoError('IO_ERROR', `this node does not hold block ${String(cid)}`);
  return bytes;
}

/**
 * The batch `id` names (its manifest CID, or the CID of its announcement,
 * which the registry records), verified from the node's store.
 */
export async function loadBatchBlocks(
  store: ContentStore,
  id: CID,
): Promise<{ manifest: OpenedManifest; blocks: Block[]; announcement?: BatchAnnouncement }> {
  const first = await need(store, id);
  const a = announcementOf(first);
  const manifestCid = a ? CID.parse(a.manifest) : id;
  const opened = await openManifest(manifestCid, (cid) => need(store, cid), {
    maxBlockBytes: store.maxBlockBytes,
    expect: a ? (m) => checkAnnouncement(a, m) : undefined,
  });
  const blocks: Block[] = [
    { cid: manifestCid, bytes: opened.manifest.bytes },
    ...opened.records.map((r) => ({ cid: r.opened.cid, bytes: r.bytes })),
  ];
  if (a) blocks.push({ cid: id, bytes: first });
  return { manifest: opened.manifest, blocks, ...(a ? { announcement: a } : {}) };
}

/** Writes the batch `id` names to `file` as a CARv1 (through a temporary file: never half-written). */
export async function exportBatchCar(
  store: ContentStore,
  id: CID,
  file: string,
): Promise<{ manifest: OpenedManifest; blocks: number; bytes: number; signed: boolean }> {
  const { manifest, blocks, announcement } = await loadBatchBlocks(store, id);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await pipeline(Readable.from(carStream(manifest.cid, blocks)), createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new DsoError('IO_ERROR', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
  return { manifest, blocks: blocks.length, bytes: (await stat(file)).size, signed: announcement !== undefined };
}

/**
 * Reads and verifies a batch CAR: one root, the manifest; at most the
 * batch's blocks and its announcement, each checked against its CID and the
 * store's block size; then the DAG (openManifest) and the announcement's
 * fields, and its signature when `domain` (the chain and registry it was
 * signed for) is given. Throws a typed error on
 * any failure; stores nothing.
 */
export async function readBatchCar(
  source: AsyncIterable<Uint8Array>,
  opts: { maxBlockBytes: number; maxRecords?: number; domain?: BatchDomain },
): Promise<{ manifest: OpenedManifest; blocks: Block[]; announcement?: BatchAnnouncement }> {
  const maxRecords = opts.maxRecords ?? DEFAULT_MAX_RECORDS;
  let reader: CarBlockIterator;
  try {
    reader = await CarBlockIterator.fromIterable(source);
  } catch (e) {
    throw new DsoError('MALFORMED_RECORD', `not a CAR file: ${(e as Error).message}`, { cause: e });
  }
  const roots = await reader.getRoots();
  if (roots.length !== 1) throw new DsoError('MALFORMED_RECORD', `a batch CAR has one root (its manifest), this one has ${roots.length}`);
  const byCid = new Map<string, Block>();
  try {
    for await (const { cid, bytes } of reader) {
      if (byCid.size >= maxRecords + 2)
        throw new DsoError('TOO_LARGE', `a batch CAR holds at most ${maxRecords + 2} blocks (records, manifest, announcement)`);
      verifyBlock(cid, bytes, opts.maxBlockBytes);
      byCid.set(cid.toString(), { cid, bytes });
    }
  } catch (e) {
    if (e instanceof DsoError) throw e;
    throw new DsoError('MALFORMED_RECORD', `the CAR file is damaged: ${(e as Error).message}`, { cause: e });
  }
  const get = (cid: CID) => {
    const b = byCid.get(cid.toString());
    if (b === undefined) throw new DsoError('BAD_PROOF', `the CAR lacks block ${String(cid)} of its batch`);
    return Promise.resolve(b.bytes);
  };
  const opened = await openManifest(roots[0], get, { maxBlockBytes: opts.maxBlockBytes, maxRecords });
  const inBatch = new Set([roots[0].toString(), ...opened.manifest.records.map(String)]);
  const extra = [...byCid.values()].filter((b) => !inBatch.has(b.cid.toString()));
  if (extra.length > 1) throw new DsoError('MALFORMED_RECORD', `the CAR holds ${extra.length} blocks that are not part of its batch`);
  let announcement: BatchAnnouncement | undefined;
  if (extra.length === 1) {
    announcement = announcementOf(extra[0].bytes);
    if (announcement === undefined)
      throw new DsoError('MALFORMED_RECORD', `block ${String(extra[0].cid)} is neither in the batch nor its announcement`);
    checkAnnouncement(announcement, opened.manifest);
    if (opts.domain !== undefined) await verifyAnnouncement(announcement, { ...opts.domain, maxRecords });
  }
  const blocks = [
    { cid: roots[0], bytes: opened.manifest.bytes },
    ...opened.records.map((r) => ({ cid: r.opened.cid, bytes: r.bytes })),
    ...extra,
  ];
  return { manifest: opened.manifest, blocks, ...(announcement ? { announcement } : {}) };
}

/** Verifies a batch CAR file whole (readBatchCar), then stores its blocks; returns what it held and how many blocks were new. */
export async function importBatchCar(
  store: ContentStore,
  file: string,
  opts: { domain?: BatchDomain } = {},
): Promise<{ manifest: OpenedManifest; blocks: number; added: number; signed: boolean }> {
  let size: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new Error('not a regular file');
    size = s.size;
  } catch (e) {
    throw new DsoError('IO_ERROR', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (size > MAX_CAR_BYTES) throw new DsoError('TOO_LARGE', `${file} has ${size} bytes; a batch CAR has at most ${MAX_CAR_BYTES}`);
  const read = await readBatchCar(createReadStream(file, { end: MAX_CAR_BYTES }), { maxBlockBytes: store.maxBlockBytes, ...opts });
  let added = 0;
  for (const b of read.blocks) {
    if (await store.has(b.cid)) continue;
    await store.putVerified(b.cid, b.bytes);
    added++;
  }
  return { manifest: read.manifest, blocks: read.blocks.length, added, signed: read.announcement !== undefined };
}
