import { describe, expect, it } from 'vitest';

import { engineOver } from '../src/engine/create-engine.js';
import { nativeBackend } from '../src/engine/native-backend.js';
import { shardedBackend } from '../src/engine/sharded-backend.js';
import { webgpuBackend } from '../src/engine/webgpu-backend.js';
import { BinaryIndex, createEngine, type Engine } from '../src/index.js';
import { addonAvailable } from '../src/simd/addon.js';
import { gpuUnavailable } from './helpers/backends.js';
import { randomBytes, rng } from './helpers/random.js';

/** A webgpu engine whose device the test holds (to lose it), over a native host. */
async function gpuEngine(): Promise<{ engine: Engine; device: GPUDevice }> {
  const host = shardedBackend(nativeBackend({}), 1, 1 << 30);
  const b = await webgpuBackend(host, { maxBindingBytes: 1 << 16 });
  return { engine: engineOver(b, host), device: b.gpu.ctx.device };
}

/** Uploaded bytes so far (rows travel as 32-bit words). */
const uploaded = (e: Engine) => {
  const g = e.stats().gpu!;
  return g.stagedBytes + g.directBytes;
};

describe.skipIf(gpuUnavailable !== undefined || !addonAvailable())('BinaryIndex on the webgpu backend', () => {
  it('keeps its rows resident: adds upload only new rows, removes and compactions stay exact', async () => {
    const { engine } = await gpuEngine();
    const native = await createEngine({ backend: 'native', threads: 1 });
    const dim = 96;
    const B = 12;
    const gpuIdx = new BinaryIndex({ dim, engine });
    const ref = new BinaryIndex({ dim, engine: native });
    const both = (f: (i: BinaryIndex) => unknown) => [f(gpuIdx), f(ref)];
    const q = randomBytes(6 * B, 1);
    const same = async (k: number) => {
      const [a, b] = await Promise.all(both((i) => i.search(q, { k })) as Array<Promise<unknown>>);
      expect(a).toEqual(b);
    };
    both((i) => i.add(randomBytes(20_000 * B, 2)));
    await same(10);
    const first = uploaded(engine);
    expect(first).toBeGreaterThanOrEqual(20_000 * B);

    // Appends past a segment's capacity (64 KiB bindings: 5,461 rows of 12 bytes), in place and across segments.
    for (const [rows, seed] of [
      [1, 3],
      [7000, 4],
      [300, 5],
    ]) {
      const before = uploaded(engine);
      both((i) => i.add(randomBytes(rows * B, seed)));
      await same(7);
      expect(uploaded(engine) - before - 6 * B).toBe(rows * B);
    }

    // Removals are filtered exactly; many of them compact (a new row order) and upload again.
    const r = rng(6);
    const gone = BigInt64Array.from({ length: 500 }, () => BigInt(Math.floor(r() * 27_000)));
    both((i) => i.remove(gone));
    await same(20);
    const many = BigInt64Array.from({ length: 9000 }, (_, j) => BigInt(j * 3));
    both((i) => i.remove(many));
    const beforeCompaction = uploaded(engine);
    await same(5);
    expect(uploaded(engine) - beforeCompaction).toBeGreaterThan(gpuIdx.size * B);
    // Labels out of order force a re-sort: exact too.
    both((i) =>
      i.add(
        randomBytes(50 * B, 7),
        BigInt64Array.from({ length: 50 }, (_, j) => -1n - BigInt(j)),
      ),
    );
    await same(3);
    expect(engine.stats().gpu!.prunedQueries).toBeGreaterThan(0);
    expect(engine.info.gpuFailure).toBeUndefined();
    await gpuIdx.close();
    await ref.close();
    await engine.close();
    await native.close();
  }, 120_000);

  it('a device lost during a search falls back to native with the same results', async () => {
    const { engine, device } = await gpuEngine();
    const native = await createEngine({ backend: 'native', threads: 1 });
    const dim = 128;
    const codes = randomBytes(30_000 * 16, 8);
    const gpuIdx = new BinaryIndex({ dim, engine });
    const ref = new BinaryIndex({ dim, engine: native });
    gpuIdx.add(codes);
    ref.add(codes);
    const q = randomBytes(5 * 16, 9);
    const want = await ref.search(q, { k: 10 });
    expect(await gpuIdx.search(q, { k: 10 })).toEqual(want);
    const during = gpuIdx.search(q, { k: 10 });
    device.destroy();
    expect(await during).toEqual(want);
    expect(engine.info.gpuFailure).toMatch(/device lost/);
    // Later adds and searches run on the host copy, still exact.
    const more = randomBytes(100 * 16, 10);
    gpuIdx.add(more);
    ref.add(more);
    expect(await gpuIdx.search(q, { k: 10 })).toEqual(await ref.search(q, { k: 10 }));
    await gpuIdx.close();
    await ref.close();
    await engine.close();
    await native.close();
  });
});
