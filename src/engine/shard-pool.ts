/**
 * The engine's worker pool for large searches: the rows of a code matrix in
 * a SharedArrayBuffer are split into shards, each worker runs the engine's
 * host backend on its shard, and the per-shard lists are merged exactly here.
 * Searches arriving in the same turn of the event loop over the same rows
 * with the same k go out as one batch.
 */
import { Piscina } from 'piscina';

import { bytesPerRow } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { workerScript } from '../core/worker-script.js';
import { mergeTopK } from './merge-top-k.js';
import type { HostSpec, ShardResult, ShardTask } from './shard-task.js';
import type { ShardStats, TopK } from './types.js';

/** Rows are not split finer than this: a worker's start-up per shard would cost more than the scan. */
const MIN_SHARD_ROWS = 4096;

interface Waiting {
  queries: Uint8Array;
  resolve(v: TopK): void;
  reject(e: unknown): void;
}

interface Batch {
  base: Uint8Array;
  dim: number;
  k: number;
  items: Waiting[];
}

export class ShardPool {
  private readonly pool: Piscina;
  private readonly pending = new Map<string, Batch>();
  private readonly bufferIds = new WeakMap<SharedArrayBuffer, number>();
  private nextBufferId = 0;

  constructor(
    readonly threads: number,
    private readonly host: HostSpec,
    private readonly stats: ShardStats,
  ) {
    this.pool = new Piscina({
      ...workerScript('shard-worker', import.meta.url),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 30_000,
    });
  }

  /** Exact top-k of `queries` over the rows of `base`, whose buffer is a SharedArrayBuffer. */
  search(base: Uint8Array, queries: Uint8Array, dim: number, k: number): Promise<TopK> {
    const key = `${this.bufferId(base.buffer as SharedArrayBuffer)}:${base.byteOffset}:${base.byteLength}:${dim}:${k}`;
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(key);
      if (!batch) {
        const b: Batch = { base, dim, k, items: [] };
        this.pending.set(key, b);
        setImmediate(() => {
          this.pending.delete(key);
          void this.run(b);
        });
        batch = b;
      }
      batch.items.push({ queries, resolve, reject });
    });
  }

  private bufferId(buf: SharedArrayBuffer): number {
    let id = this.bufferIds.get(buf);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(buf, id);
    }
    return id;
  }

  private async run({ base, dim, k, items }: Batch): Promise<void> {
    const B = bytesPerRow(dim);
    const queries = concat(items.map((it) => it.queries));
    const nq = queries.length / B;
    const n = base.byteLength / B;
    try {
      const shards = Math.max(1, Math.min(this.threads, Math.ceil(n / MIN_SHARD_ROWS)));
      const per = Math.ceil(n / shards);
      const tasks = Array.from({ length: shards }, (_, s): ShardTask => ({
        host: this.host,
        codes: base.buffer as SharedArrayBuffer,
        byteOffset: base.byteOffset,
        bytesPerRow: B,
        rowStart: s * per,
        rowEnd: Math.min(n, (s + 1) * per),
        queries,
        dim,
        k,
      }));
      this.stats.shardBatches++;
      const parts = await Promise.all(tasks.map((t) => this.runTask(t)));
      const merged = mergeTopK(parts, nq, k);
      let q0 = 0;
      for (const it of items) {
        const c = it.queries.length / B;
        it.resolve({ ids: merged.ids.slice(q0 * k, (q0 + c) * k), distances: merged.distances.slice(q0 * k, (q0 + c) * k) });
        q0 += c;
      }
    } catch (e) {
      for (const it of items) it.reject(e);
    }
  }

  private async runTask(t: ShardTask): Promise<TopK> {
    let r: ShardResult;
    try {
      r = (await this.pool.run(t)) as ShardResult;
    } catch (e) {
      throw new DsoError('WORKER_FAILED', `a shard worker failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    this.stats.shardTasks++;
    if ('error' in r) throw new DsoError(r.error.code, r.error.message);
    if (!this.stats.workerTiers.includes(r.ran)) this.stats.workerTiers.push(r.ran);
    return r;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return all;
}
