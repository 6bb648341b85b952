/**
 * /dso/blocks/1.0.0, both sides. The asker sends one length-prefixed
 * DAG-CBOR message { cids: [CID, ...] }; the server answers with one
 * length-prefixed message per CID, in order: the block, or nothing (zero
 * bytes) when it does not have it, and closes the stream.
 *
 * The server streams the answers one block at a time, each written once the
 * connection has taken the one before, under the budgets of InFlight: a
 * request cannot make it hold more than its share of memory, and a CID named
 * twice in one request is answered once (the repeats get zero bytes). Both
 * sides wait on the other under deadlines (PEER_TIMEOUT).
 */
import * as dagCbor from '@ipld/dag-cbor';
import type { Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { CID } from 'multiformats/cid';

import { DsoError, type DsoErrorCode } from '../core/errors.js';
import { type ContentStore, verifyBlock } from './content-store.js';
import { Deadline } from './deadline.js';
import type { InFlight, PeerLimits } from './peer-limits.js';

export const BLOCKS_PROTOCOL = '/dso/blocks/1.0.0';

const NOTHING = new Uint8Array(0);
/** Bytes of a request per CID it may name: a CIDv1 sha2-256 is 41 in DAG-CBOR, longer hashes up to 58. */
const REQUEST_BYTES_PER_CID = 64;

/** What a node's block server has done since it started. */
export interface ServingStats {
  requests: number;
  /** Requests refused or cut off (over a limit, malformed, timed out, broken). */
  refused: number;
  bytesServed: number;
  /** Block bytes read for peers and not yet handed to their connections, now and at most. */
  bytesInFlight: number;
  peakBytesInFlight: number;
}

export interface ServerContext {
  store: ContentStore;
  limits: PeerLimits;
  inFlight: InFlight;
  stats: Omit<ServingStats, 'bytesInFlight' | 'peakBytesInFlight'>;
  log: (line: string) => void;
}

/** A peer's failure as a DsoError: ours are kept, a message over the length limit is `oversize`, the transport's others IO_ERROR. */
function asPeerError(e: unknown, what: string, oversize: DsoErrorCode): DsoError {
  if (e instanceof DsoError) return e;
  const err = e as { name?: string; message?: string; type?: string; error?: { message?: string } };
  if (err.name === 'InvalidDataLengthError' || err.name === 'InvalidDataLengthLengthError')
    return new DsoError(oversize, `${what}: a message over the size limit`, { cause: e });
  // A wait for the stream to drain ends with the stream's 'close' event when the peer goes away.
  const why = err.message ?? err.error?.message ?? (err.type === 'close' ? 'the stream closed' : String(e));
  return new DsoError('IO_ERROR', `${what}: ${why}`, { cause: e });
}

function decodeRequest(bytes: Uint8Array, max: number): unknown[] {
  let req: { cids?: unknown } | null;
  try {
    req = dagCbor.decode<{ cids?: unknown } | null>(bytes);
  } catch (e) {
    throw new DsoError('MALFORMED_RECORD', `block request is not valid DAG-CBOR: ${(e as Error).message}`, { cause: e });
  }
  if (req === null || typeof req !== 'object' || !Array.isArray(req.cids))
    throw new DsoError('MALFORMED_RECORD', 'block request has no cids list');
  if (req.cids.length > max) throw new DsoError('PEER_LIMIT', `block request names ${req.cids.length} CIDs, at most ${max} allowed`);
  return req.cids as unknown[];
}

/** Answers one block request from `peer` on `stream`; never throws (a refusal resets the stream and is logged). */
export async function serveBlockRequest(stream: Stream, peer: string, ctx: ServerContext): Promise<void> {
  const { limits, inFlight, stats } = ctx;
  const maxBlock = ctx.store.maxBlockBytes;
  const deadline = new Deadline(limits.requestTimeoutMs, limits.streamTimeoutMs, `serving blocks to ${peer}`);
  let claimed = 0;
  stats.requests++;
  try {
    const lp = lpStream(stream, { maxDataLength: 64 + REQUEST_BYTES_PER_CID * limits.maxCidsPerRequest });
    const message = await deadline.run(`block request from ${peer}`, (signal) => lp.read({ signal }));
    const cids = decodeRequest(message.subarray(), limits.maxCidsPerRequest);
    inFlight.claimCids(peer, cids.length);
    claimed = cids.length;
    const answered = new Set<string>();
    // Empty answers (repeats, blocks not here) go out together with the next block: a write per repeat would cost more than the repeat.
    let empties = 0;
    const flush = async (block?: Uint8Array) => {
      const out = new Array<Uint8Array>(empties).fill(NOTHING);
      if (block !== undefined) out.push(block);
      empties = 0;
      if (out.length > 0) await deadline.run(`sending blocks to ${peer}`, (signal) => lp.writeV(out, { signal }));
    };
    for (const c of cids) {
      const cid = CID.asCID(c);
      const key = cid?.toString();
      if (cid === null || key === undefined || answered.has(key)) {
        empties++;
        continue;
      }
      answered.add(key);
      // The block's size is known once it is read: reserve the largest, give back the rest.
      await deadline.hold((signal) => inFlight.reserve(peer, maxBlock, signal));
      let held = maxBlock;
      try {
        const block = await ctx.store.get(cid);
        inFlight.release(peer, maxBlock - (block?.byteLength ?? 0));
        held = block?.byteLength ?? 0;
        if (block === undefined) empties++;
        else {
          await flush(block);
          stats.bytesServed += block.byteLength;
        }
      } finally {
        inFlight.release(peer, held);
      }
    }
    await flush();
    await deadline.run(`closing the block stream to ${peer}`, (signal) => stream.close({ signal }));
  } catch (e) {
    const err = asPeerError(e, `block request from ${peer}`, 'PEER_LIMIT');
    stats.refused++;
    ctx.log(`${err.code}: ${err.message}`);
    stream.abort(err);
  } finally {
    inFlight.releaseCids(peer, claimed);
    deadline.clear();
  }
}

export interface RequestContext {
  limits: PeerLimits;
  /** Largest block accepted; a longer answer ends the exchange (TOO_LARGE). */
  maxBytes: number;
  /** Opens the block stream to the peer. */
  open: (signal: AbortSignal) => Promise<Stream>;
}

/**
 * Asks one peer for `cids` (at most maxCidsPerRequest). Every block that
 * comes is checked against its CID before it is kept in `found`. Throws the
 * first failure (a bad block, a deadline, a broken stream) as a DsoError,
 * keeping what had arrived verified before it.
 */
export async function requestBlocks(
  peer: string,
  cids: readonly CID[],
  found: Map<string, Uint8Array>,
  ctx: RequestContext,
): Promise<void> {
  const { limits } = ctx;
  const deadline = new Deadline(limits.requestTimeoutMs, limits.streamTimeoutMs, `block request to ${peer}`);
  let stream: Stream | undefined;
  try {
    const s = await deadline.run(`opening a block stream to ${peer}`, ctx.open);
    stream = s;
    const lp = lpStream(s, { maxDataLength: ctx.maxBytes });
    await deadline.run(`block request to ${peer}`, (signal) => lp.write(dagCbor.encode({ cids }), { signal }));
    for (const cid of cids) {
      const bytes = (await deadline.run(`block ${String(cid)} from ${peer}`, (signal) => lp.read({ signal }))).subarray();
      if (bytes.byteLength === 0) continue;
      verifyBlock(cid, bytes, ctx.maxBytes);
      found.set(cid.toString(), bytes);
    }
    await deadline.run(`closing the block stream to ${peer}`, (signal) => s.close({ signal }));
  } catch (e) {
    const err = asPeerError(e, `block request to ${peer}`, 'TOO_LARGE');
    stream?.abort(err);
    throw err;
  } finally {
    deadline.clear();
  }
}
