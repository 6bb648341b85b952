/**
 * A piscina pool that searches code matrices held in SharedArrayBuffers: a
 * batch of queries is split into row shards, each worker runs the native
 * kernel on its shard, and the per-shard top-k lists (each sorted by distance,
 * then row) are merged exactly on the caller's side. Requests arriving in the
 * same turn of the event loop with the same matrix and k are batched into one
 * dispatch.
 */
import os from 'node:os';

import { Piscina } from 'piscina';

import { addonPaths, loadAddon, type Tier } from '../simd/addon.js';

/** Rows [0, n) of a code matrix: in a SharedArrayBuffer, or at `offset` of a file each worker maps from `fd`. */
export type SharedCodes = ({ buffer: SharedArrayBuffer } | { fd: number; key: string; offset: number }) & { n: number; dim: number };

interface Pending {
  queries: Uint8Array;
  resolve(v: { ids: Int32Array; distances: Int32Array }): void;
  reject(e: unknown): void;
}

/** Merges per-shard top-k lists, each ascending by (distance, row), into the global top-k. */
function mergeShards(parts: Array<{ ids: Int32Array; distances: Int32Array }>, nq: number, k: number) {
  const ids = new Int32Array(nq * k).fill(-1);
  const distances = new Int32Array(nq * k).fill(-1);
  const heads = new Int32Array(parts.length);
  for (let q = 0; q < nq; q++) {
    heads.fill(0);
    for (let slot = 0; slot < k; slot++) {
      let best = -1;
      for (let p = 0; p < parts.length; p++) {
        const h = heads[p];
        if (h >= k) continue;
        const id = parts[p].ids[q * k + h];
        if (id < 0) continue;
        if (best < 0) {
          best = p;
          continue;
        }
        const d = parts[p].distances[q * k + h];
        const bd = parts[best].distances[q * k + heads[best]];
        if (d < bd || (d === bd && id < parts[best].ids[q * k + heads[best]])) best = p;
      }
      if (best < 0) break;
      ids[q * k + slot] = parts[best].ids[q * k + heads[best]];
      distances[q * k + slot] = parts[best].distances[q * k + heads[best]];
      heads[best]++;
    }
  }
  return { ids, distances };
}

export class SearchPool {
  private readonly pool: Piscina;
  private readonly addonPath: string;
  private readonly isa: Tier;
  private readonly pending = new Map<string, { codes: SharedCodes; k: number; items: Pending[] }>();
  private readonly ids = new WeakMap<SharedArrayBuffer, number>();
  private nextId = 0;

  private sourceKey(codes: SharedCodes): string {
    if ('fd' in codes) return `map${codes.key}`;
    let id = this.ids.get(codes.buffer);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(codes.buffer, id);
    }
    return `sab${id}`;
  }

  constructor(readonly threads = os.availableParallelism?.() ?? os.cpus().length) {
    this.isa = loadAddon().cpuInfo().best;
    this.addonPath = addonPaths.find((p) => p.endsWith('.node'))!;
    this.pool = new Piscina({
      filename: new URL('./shard-worker.mjs', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 30_000,
    });
  }

  /** Exact top-k of `queries` over rows [0, codes.n); row ids, ascending (distance, row). */
  search(codes: SharedCodes, queries: Uint8Array, k: number): Promise<{ ids: Int32Array; distances: Int32Array }> {
    const key = `${this.sourceKey(codes)}:${codes.n}:${codes.dim}:${k}`;
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(key);
      if (!batch) {
        batch = { codes, k, items: [] };
        this.pending.set(key, batch);
        setImmediate(() => {
          this.pending.delete(key);
          void this.run(batch!);
        });
      }
      batch.items.push({ queries, resolve, reject });
    });
  }

  private async run(batch: { codes: SharedCodes; k: number; items: Pending[] }): Promise<void> {
    const { codes, k, items } = batch;
    const B = Math.ceil(codes.dim / 8);
    const counts = items.map((it) => it.queries.length / B);
    const all = new Uint8Array(items.reduce((s, it) => s + it.queries.length, 0));
    let off = 0;
    for (const it of items) {
      all.set(it.queries, off);
      off += it.queries.length;
    }
    const nq = all.length / B;
    try {
      const shards = Math.max(1, Math.min(this.threads, Math.ceil(codes.n / 4096)));
      const per = Math.ceil(codes.n / shards);
      const parts = await Promise.all(
        Array.from({ length: shards }, (_, s) =>
          this.pool.run({
            addonPath: this.addonPath,
            isa: this.isa,
            ...('fd' in codes ? { fd: codes.fd, mapKey: codes.key, offset: codes.offset } : { codes: codes.buffer, offset: 0 }),
            bytesPerRow: B,
            rowStart: s * per,
            rowEnd: Math.min(codes.n, (s + 1) * per),
            queries: all,
            dim: codes.dim,
            k,
          }) as Promise<{ ids: Int32Array; distances: Int32Array }>,
        ),
      );
      const merged = mergeShards(parts, nq, k);
      let q0 = 0;
      items.forEach((it, i) => {
        const c = counts[i];
        it.resolve({ ids: merged.ids.slice(q0 * k, (q0 + c) * k), distances: merged.distances.slice(q0 * k, (q0 + c) * k) });
        q0 += c;
      });
    } catch (e) {
      for (const it of items) it.reject(e);
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
