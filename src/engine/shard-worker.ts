/**
 * A worker thread of the engine's shard pool: exact Hamming top-k of a batch
 * of queries over one row range of a code matrix in a SharedArrayBuffer (no
 * copy), on the same backend, tier and popcount choice as the engine that
 * sent it. The addon is context-aware, so each worker loads its own instance.
 * Failures come back as data: an Error crossing threads loses its class and
 * code, and the engine raises them again as DsoErrors.
 */
import { isDsoError } from '../core/errors.js';
import type { Backend } from './backend.js';
import { jsBackend } from './js-backend.js';
import { nativeBackend } from './native-backend.js';
import { padTopK } from './pad-top-k.js';
import type { HostSpec, ShardResult, ShardTask } from './shard-task.js';

const backends = new Map<string, Backend>();

function backendFor(spec: HostSpec): Backend {
  const key = JSON.stringify(spec);
  let b = backends.get(key);
  if (!b) {
    // The worker is off the event loop already: every call runs inline.
    b =
      spec.backend === 'js'
        ? jsBackend()
        : nativeBackend({ isa: spec.isa, vpopcntdq: spec.vpopcntdq, inlineBytes: Number.POSITIVE_INFINITY });
    backends.set(key, b);
  }
  return b;
}

export default async function searchShard(t: ShardTask): Promise<ShardResult> {
  try {
    const rows = t.rowEnd - t.rowStart;
    const shard = new Uint8Array(t.codes, t.byteOffset + t.rowStart * t.bytesPerRow, rows * t.bytesPerRow);
    const backend = backendFor(t.host);
    const r = await backend.hammingTopK(shard, t.queries, t.dim, Math.min(t.k, rows));
    // Row ids into the whole matrix, padded to k per query so every shard's lists have one width.
    return {
      ...padTopK(r, t.queries.length / t.bytesPerRow, t.k, t.rowStart),
      ran: `${backend.info.backend}/${backend.info.isa}${backend.info.vpopcntdq ? '+vpopcntdq' : ''}`,
    };
  } catch (e) {
    if (isDsoError(e)) return { error: { code: e.code, message: e.message } };
    return { error: { code: 'WORKER_FAILED', message: `shard search failed: ${(e as Error)?.message ?? String(e)}` } };
  }
}
