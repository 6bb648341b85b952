/**
 * Batches as CAR files: `dso batch export` writes a CARv1 that @ipld/car
 * reads (root the manifest, every record, the announcement), another node's
 * `dso batch import` stores it; a CAR with a block that does not hash to its
 * CID, a missing record, a manifest whose root is not its records' or a
 * signature for another chain stores nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { CarReader, CarWriter } from '@ipld/car';
import * as dagCbor from '@ipld/dag-cbor';
import type { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildBatch, type BuiltBatch, encodeEnvelope } from '../src/network/batch.js';
import { loadBatchBlocks } from '../src/network/car.js';
import { cidOfBlock, ContentStore } from '../src/network/content-store.js';
import { identityFromKey } from '../src/network/identity.js';
import { SAMPLE_DOMAIN, sampleRecords } from './helpers/records.js';

const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-car-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function dso(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
}

async function blocksIn(dataDir: string): Promise<string[]> {
  const store = await ContentStore.fs(path.join(dataDir, 'blocks'));
  const out: string[] = [];
  for await (const c of store.cids()) out.push(c.toString());
  await store.close();
  return out.sort();
}

async function writeCar(file: string, root: CID, blocks: { cid: CID; bytes: Uint8Array }[]): Promise<void> {
  const { writer, out } = CarWriter.create([root]);
  const chunks: Uint8Array[] = [];
  const drained = (async () => {
    for await (const c of out) chunks.push(c);
  })();
  for (const b of blocks) await writer.put(b);
  await writer.close();
  await drained;
  writeFileSync(file, Buffer.concat(chunks));
}

let batch: BuiltBatch;
let envelope: { cid: CID; bytes: Uint8Array };
const nodeA = path.join(dir, 'a');
const car = path.join(dir, 'batch.car');

beforeAll(async () => {
  batch = await buildBatch(sampleRecords(25, 3), { identity: identityFromKey(KEY), network: 'dso-car', ...SAMPLE_DOMAIN });
  const bytes = encodeEnvelope(batch.announcement);
  envelope = { cid: cidOfBlock(bytes), bytes };
  const store = await ContentStore.fs(path.join(nodeA, 'blocks'));
  await store.putVerified(batch.manifest.cid, batch.manifest.bytes);
  for (const r of batch.records) await store.putVerified(r.cid, r.bytes);
  await store.put(envelope.bytes);
  await store.close();
});

describe('dso batch export / import', () => {
  it('lists the batch, exports a CARv1 that @ipld/car reads block by block, with the manifest as root', async () => {
    const list = dso('batch', 'list', '--data-dir', nodeA, '--json');
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout.trim())).toMatchObject({
      manifest: batch.manifest.cid.toString(),
      announcement: envelope.cid.toString(),
      records: 25,
      status: 'complete',
    });

    const r = dso('batch', 'export', '--data-dir', nodeA, '--batch', envelope.cid.toString(), '--out', car);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/25 records .* 27 blocks/u);
    const reader = await CarReader.fromBytes(readFileSync(car));
    expect(reader.version).toBe(1);
    expect((await reader.getRoots()).map(String)).toEqual([batch.manifest.cid.toString()]);
    const seen: string[] = [];
    for await (const { cid, bytes } of reader.blocks()) {
      expect(Buffer.from((await sha256.digest(bytes)).digest)).toEqual(Buffer.from(cid.multihash.digest));
      seen.push(cid.toString());
    }
    expect(seen).toEqual([batch.manifest.cid, ...batch.records.map((x) => x.cid), envelope.cid].map(String));
    const manifest = dagCbor.decode<{ records: CID[] }>((await reader.get(batch.manifest.cid))!.bytes);
    expect(manifest.records.map(String)).toEqual(batch.records.map((x) => x.cid.toString()));
  });

  it('another node imports it, signature checked, and holds the whole batch', async () => {
    const nodeB = path.join(dir, 'b');
    const r = dso('batch', 'import', car, '--data-dir', nodeB, '--chain-id', '31337', '--registry', SAMPLE_DOMAIN.registry);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('27 new blocks of 27, signature checked');
    expect(await blocksIn(nodeB)).toEqual(await blocksIn(nodeA));
    const store = await ContentStore.fs(path.join(nodeB, 'blocks'));
    const held = await loadBatchBlocks(store, envelope.cid);
    await store.close();
    expect(held.manifest.records).toHaveLength(25);
    const again = dso('batch', 'import', car, '--data-dir', nodeB);
    expect(again.stdout).toContain('0 new blocks of 27');
  });

  const refused = async (name: string, file: string, code: string, ...extra: string[]) => {
    const target = path.join(dir, name);
    const r = dso('batch', 'import', file, '--data-dir', target, ...extra);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^dso: ${code}: `, 'u'));
    expect(await blocksIn(target)).toEqual([]);
  };

  it('refuses a CAR with a block whose bytes are not its CID, and stores nothing', async () => {
    const bad = Uint8Array.from(batch.records[4].bytes); // a copy (the bytes may be a Buffer, whose slice is a view)
    bad[bad.length - 1] ^= 1;
    const file = path.join(dir, 'tampered.car');
    await writeCar(file, batch.manifest.cid, [
      { cid: batch.manifest.cid, bytes: batch.manifest.bytes },
      ...batch.records.map((x, i) => ({ cid: x.cid, bytes: i === 4 ? bad : x.bytes })),
    ]);
    await refused('c', file, 'CID_MISMATCH');
  });

  it('refuses a CAR missing a record, a manifest whose root is not its records, and a signature for another chain or registry', async () => {
    const missing = path.join(dir, 'missing.car');
    await writeCar(missing, batch.manifest.cid, [
      { cid: batch.manifest.cid, bytes: batch.manifest.bytes },
      ...batch.records.slice(1).map((x) => ({ cid: x.cid, bytes: x.bytes })),
    ]);
    await refused('d', missing, 'BAD_PROOF');

    const m = dagCbor.decode<Record<string, unknown>>(batch.manifest.bytes);
    const forged = dagCbor.encode({ ...m, records: [...batch.records].reverse().map((x) => x.cid) });
    const forgedCid = cidOfBlock(forged);
    const reordered = path.join(dir, 'reordered.car');
    await writeCar(reordered, forgedCid, [
      { cid: forgedCid, bytes: forged },
      ...batch.records.map((x) => ({ cid: x.cid, bytes: x.bytes })),
    ]);
    await refused('e', reordered, 'BAD_PROOF');

    await refused('f', car, 'BAD_SIGNATURE', '--chain-id', '1', '--registry', SAMPLE_DOMAIN.registry);
    // The right chain, another registry: the EIP-712 domain names both.
    await refused('f2', car, 'BAD_SIGNATURE', '--chain-id', '31337', '--registry', '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512');
    await refused('f3', car, 'INVALID_ARGUMENT', '--chain-id', '31337');
  });

  it('refuses what is not a CAR', async () => {
    const junk = path.join(dir, 'junk.car');
    writeFileSync(junk, 'not a car at all');
    await refused('g', junk, 'MALFORMED_RECORD');
  });
});
