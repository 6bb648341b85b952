/**
 * Sharding is the engine's: searches over shared memory split across its
 * worker threads run the engine's own backend and tier, give the reference's
 * exact answer, and fail with DsoErrors.
 */
import { describe, expect, it } from 'vitest';

import { ShardPool } from '../src/engine/shard-pool.js';
import { createEngine, hammingTopKReference } from '../src/index.js';
import { addonAvailable, loadAddon } from '../src/simd/addon.js';
import { backendCases } from './helpers/backends.js';
import { errorCode } from './helpers/errors.js';
import { randomBytes } from './helpers/random.js';

function shared(bytes: Uint8Array): Uint8Array {
  const s = new Uint8Array(new SharedArrayBuffer(bytes.length));
  s.set(bytes);
  return s;
}

const hostCases = backendCases().filter((c) => c.options.backend !== 'webgpu');

describe.each(hostCases)('sharded search on $name', (c) => {
  it.skipIf(!c.available)('matches the reference on awkward shapes, in the tier the engine was made with', async () => {
    const engine = await createEngine({ ...c.options, threads: 2, shardRows: 1 });
    const want = c.options.backend === 'js' ? 'js/js' : `native/${engine.info.isa}${engine.info.vpopcntdq ? '+vpopcntdq' : ''}`;
    // n just over one shard (two shards), k > rows of a shard, k > n, more queries than rows.
    for (const [n, dim, nq, k] of [
      [8193, 100, 3, 10],
      [9000, 13, 2, 5000],
      [4100, 384, 5, 9000],
      [5000, 64, 6000, 1],
    ]) {
      const base = shared(randomBytes(n * Math.ceil(dim / 8), n + dim));
      const queries = randomBytes(nq * Math.ceil(dim / 8), nq + k);
      for (let i = 0; i < queries.length; i += Math.ceil(dim / 8)) {
        if (dim % 8) queries[i + Math.ceil(dim / 8) - 1] &= (1 << (dim % 8)) - 1;
      }
      for (let i = Math.ceil(dim / 8) - 1; i < base.length && dim % 8; i += Math.ceil(dim / 8)) base[i] &= (1 << (dim % 8)) - 1;
      const before = engine.stats().shardTasks;
      const r = await engine.hammingTopK(base, queries, { dim, k });
      expect(r).toEqual(hammingTopKReference(base, queries, dim, k));
      expect(engine.stats().shardTasks - before).toBe(2);
    }
    expect(engine.stats().workerTiers).toEqual([want]);
    await engine.close();
  });
});

describe('sharding rules', () => {
  it('shards uploaded codes and shared arrays, never memory the workers cannot see', async () => {
    const engine = await createEngine({ backend: 'js', threads: 2, shardRows: 1000 });
    const codes = randomBytes(5000 * 8, 3);
    const q = randomBytes(2 * 8, 4);
    const ref = hammingTopKReference(codes, q, 64, 7);
    expect(await engine.hammingTopK(codes, q, { dim: 64, k: 7 })).toEqual(ref); // plain ArrayBuffer: on the host
    expect(engine.stats().shardBatches).toBe(0);
    const resident = await engine.uploadCodes(codes, { dim: 64 });
    codes.fill(0); // the engine copied them: the caller's array is its own again
    expect(await engine.hammingTopK(resident, q, { dim: 64, k: 7 })).toEqual(ref);
    expect(engine.stats().shardBatches).toBe(1);
    expect(await engine.hammingTopK(shared(randomBytes(999 * 8, 3)), q, { dim: 64, k: 7 })).toBeDefined(); // below shardRows
    expect(engine.stats().shardBatches).toBe(1);
    await engine.close();
    const one = await createEngine({ backend: 'js', threads: 1, shardRows: 1 });
    await one.hammingTopK(shared(codes), q, { dim: 64, k: 3 });
    expect(one.stats().shardBatches).toBe(0);
    expect(one.info.threads).toBe(1);
    await one.close();
  });

  it('refuses bad thread and shard options', async () => {
    expect(await errorCode(createEngine({ threads: 0 }))).toBe('INVALID_COUNT');
    expect(await errorCode(createEngine({ threads: 1.5 }))).toBe('INVALID_COUNT');
    expect(await errorCode(createEngine({ shardRows: 0 }))).toBe('INVALID_COUNT');
  });

  it.skipIf(!addonAvailable())('raises what a worker raised as a DsoError with its code', async () => {
    const best = loadAddon().cpuInfo().best;
    const stats = { shardBatches: 0, shardTasks: 0, workerTiers: [] };
    const base = shared(randomBytes(8 * 8192, 1));
    const native = new ShardPool(2, { backend: 'native', isa: best, vpopcntdq: false }, stats);
    const neon = new ShardPool(1, { backend: 'native', isa: best === 'neon' ? 'avx512' : 'neon', vpopcntdq: false }, stats);
    try {
      // 10 bytes of queries are not whole rows of 8 bytes: the worker's kernel refuses them.
      expect(await errorCode(native.search(base, randomBytes(10, 2), 64, 3))).toBe('LENGTH_MISMATCH');
      expect(await errorCode(neon.search(base, randomBytes(8, 2), 64, 3))).toBe('ISA_UNAVAILABLE');
    } finally {
      await native.close();
      await neon.close();
    }
  });
});
