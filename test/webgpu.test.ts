import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { autoBackend } from '../src/engine/auto-backend.js';
import { crossoverFrom, NEVER, subgroupPick } from '../src/engine/crossover.js';
import { jsBackend } from '../src/engine/js-backend.js';
import { nativeBackend } from '../src/engine/native-backend.js';
import { webgpuBackend } from '../src/engine/webgpu-backend.js';
import { into } from '../src/gpu/buffers.js';
import { readResults } from '../src/gpu/gpu.js';
import { prepareStreamRead } from '../src/gpu/stream-read.js';
import { createEngine, type DsoError, hammingTopKReference, medianReference } from '../src/index.js';
import { addonAvailable } from '../src/simd/addon.js';
import { gpuSubgroups, gpuUnavailable } from './helpers/backends.js';
import { errorCode } from './helpers/errors.js';
import { gaussian, randomBytes, rng } from './helpers/random.js';

if (gpuUnavailable) console.warn(`SKIPPED webgpu tests: no WebGPU adapter (${gpuUnavailable})`);

describe.skipIf(gpuUnavailable !== undefined)('webgpu backend', () => {
  it('reports the adapter it runs on', async () => {
    const e = await createEngine({ backend: 'webgpu' });
    expect(e.info.backend).toBe('webgpu');
    expect(e.info.adapter?.description.length).toBeGreaterThan(0);
    expect(typeof e.info.adapter?.software).toBe('boolean');
    await e.close();
  });

  it('takes inputs in shared memory (Dawn crashes on them unless they are copied)', async () => {
    const e = await createEngine({ backend: 'webgpu', gpu: { maxBindingBytes: 1 << 16 } });
    const share = <T extends Uint8Array | Float32Array>(a: T): T => {
      const s = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
      s.set(a);
      return s;
    };
    const x = share(gaussian(300 * 77, 4));
    const native = await createEngine({ backend: 'native' });
    const [gq, nq] = [await e.quantize(x, { dim: 77 }), await native.quantize(x, { dim: 77 })];
    expect(gq.codes).toEqual(nq.codes);
    gq.scales.forEach((v, i) => expect(v).toBeCloseTo(nq.scales[i], 5)); // f32 sums on the GPU
    const base = share(randomBytes(5000 * 25, 5));
    const q = share(randomBytes(3 * 25, 6));
    expect(await e.hammingTopK(base, q, { dim: 200, k: 4 })).toEqual(hammingTopKReference(base, q, 200, 4));
    const resident = await e.uploadCodes(base, { dim: 200 });
    expect(await e.hammingTopK(resident, q, { dim: 200, k: 4 })).toEqual(hammingTopKReference(base, q, 200, 4));
    await native.close();
    await e.close();
  });

  it('searches resident codes many times without uploading them again', async () => {
    const e = await createEngine({ backend: 'webgpu', gpu: { maxBindingBytes: 1 << 16 } });
    const dim = 200;
    const base = randomBytes(9000 * 25, 3);
    const resident = await e.uploadCodes(base, { dim });
    expect(resident.n).toBe(9000);
    for (let i = 0; i < 3; i++) {
      const q = randomBytes(5 * 25, 10 + i);
      expect(await e.hammingTopK(resident, q, { dim, k: 7 })).toEqual(hammingTopKReference(base, q, dim, 7));
    }
    const err = await e.hammingTopK(resident, randomBytes(16, 1), { dim: 128, k: 1 }).catch((x: unknown) => x);
    expect((err as DsoError).code).toBe('DIM_MISMATCH');
    resident.release();
    const gone = await e.hammingTopK(resident, randomBytes(25, 1), { dim, k: 1 }).catch((x: unknown) => x);
    expect((gone as DsoError).code).toBe('INVALID_ARGUMENT');
    expect(e.info.gpuFailure).toBeUndefined();
    await e.close();
  });

  for (const subgroups of [true, false]) {
    it.skipIf(subgroups && !gpuSubgroups)(
      `prunes by a sampled bound over several segments, and answers overflowed lists exactly (subgroups: ${subgroups})`,
      async () => {
        // 1 MiB bindings: segments of 65,536 rows of 100 bits, so the bound samples every 4th row of the first.
        const b = await webgpuBackend(jsBackend(), { maxBindingBytes: 1 << 20, subgroups });
        expect(b.info.adapter?.subgroups).toBe(subgroups);
        const dim = 100;
        const B = 13;
        const n = 150_000;
        const random = randomBytes(n * B, 21);
        // Half the base near a few prototypes and half random, so rows pass the bound in bursts.
        const r = rng(22);
        const clustered = random.slice();
        for (let i = 0; i < n; i += 2) {
          const p = 1000 * Math.floor(r() * 3);
          clustered.set(random.subarray(p * B, p * B + B), i * B);
          clustered[i * B + Math.floor(r() * B)] ^= 1 << Math.floor(r() * 4);
        }
        for (const base of [random, clustered]) {
          const device = await b.upload!(base, dim);
          const queries = new Uint8Array(24 * B);
          queries.set(randomBytes(20 * B, 23));
          queries.set(base.subarray(140_000 * B, 140_004 * B), 20 * B);
          for (const k of [1, 10, 100]) {
            const before = { ...b.gpu.stats };
            const got = await b.hammingTopK(base, queries, dim, k, device);
            expect(got, `k ${k}`).toEqual(hammingTopKReference(base, queries, dim, k));
            if (base === random) expect(b.gpu.stats.prunedQueries - before.prunedQueries, `k ${k}`).toBe(24);
          }
          b.release!(device);
        }
        // Every row one of two codes: all ties at the bound overflow the lists, and the exact path answers.
        const tied = new Uint8Array(n * B);
        for (let i = 0; i < n; i += 3) tied[i * B] = 1;
        const before = b.gpu.stats.exactQueries;
        const q = randomBytes(3 * B, 24);
        expect(await b.hammingTopK(tied, q, dim, 50)).toEqual(hammingTopKReference(tied, q, dim, 50));
        expect(b.gpu.stats.exactQueries - before).toBe(3);
        expect(b.info.gpuFailure).toBeUndefined();
        await b.close?.();
      },
      120_000,
    );
  }

  it.skipIf(!addonAvailable())('falls back to native after the device is lost, instead of hanging', async () => {
    const b = await webgpuBackend(nativeBackend({}));
    const rows = gaussian(9 * 33, 4);
    expect(await b.median(rows, 9)).toEqual(medianReference(rows, 9));
    b.gpu.ctx.device.destroy();
    await b.gpu.ctx.device.lost;
    expect(b.info.gpuFailure).toMatch(/device lost/);
    expect(await b.median(rows, 9)).toEqual(medianReference(rows, 9));
    const base = randomBytes(100 * 8, 5);
    const q = randomBytes(2 * 8, 6);
    expect(await b.hammingTopK(base, q, 64, 3)).toEqual(hammingTopKReference(base, q, 64, 3));
  });

  it('lets the process exit with an engine open or closed', () => {
    for (const close of [false, true]) {
      const script = `
        import { createEngine } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
        const e = await createEngine({ backend: 'webgpu' });
        await e.median(new Float32Array([1, 2, 3, 4]), { n: 2 });
        ${close ? 'await e.close();' : ''}
        console.log('done');`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stdout, r.stderr).toContain('done');
      expect(r.status, `close=${close}: ${r.stderr}`).toBe(0);
    }
  });
});

describe.skipIf(gpuUnavailable !== undefined || !addonAvailable())("backend 'auto'", () => {
  it('never opens a software adapter for work, and measures the crossover where allowed', async () => {
    const host = nativeBackend({});
    const plain = autoBackend(host);
    const big = gaussian(64 * 8192, 7);
    expect(await plain.median(big, 64)).toEqual(medianReference(big, 64));
    expect(await plain.crossover()).toEqual(NEVER);

    const measured = autoBackend(host, { allowSoftware: true });
    expect(await measured.median(big, 64)).toEqual(medianReference(big, 64));
    const crossover = await measured.crossover();
    for (const v of Object.values(crossover)) expect(v === Infinity || v > 0).toBe(true);
    expect(measured.info.adapter?.software).toBe(true);
    await measured.close?.();
  });
});

describe.skipIf(gpuUnavailable !== undefined)('webgpu transfers, passes and limits', () => {
  it('streams reads at vec4 width and folds them into an exact XOR (the bench limit kernel)', async () => {
    const b = await webgpuBackend(jsBackend());
    const data = randomBytes(5 * 2 ** 20 + 48, 31); // many strides of the grid, and not a whole number of them
    const buf = await b.gpu.pool.upload(data);
    const read = prepareStreamRead(b.gpu, buf, data.byteLength);
    const words = new Uint32Array(data.buffer);
    let want = 0;
    for (const w of words) want ^= w;
    expect(await read.checksum()).toBe(want >>> 0);
    read.release();
    await b.close?.();
  });

  it('uploads through the staging ring in tiny chunks, shared memory and odd lengths included, in order', async () => {
    const b = await webgpuBackend(jsBackend(), { stagingChunkBytes: 8 });
    const gpu = b.gpu;
    const shared = new Uint8Array(new SharedArrayBuffer(1001));
    shared.set(randomBytes(1001, 32));
    const plain = randomBytes(4099, 33);
    const before = gpu.stats.stagedChunks;
    // Two uploads at once: the ring serves them one after the other.
    const [x, y] = await Promise.all([gpu.pool.upload(shared), gpu.pool.upload(plain)]);
    expect(gpu.stats.stagedChunks - before).toBe(Math.ceil(1001 / 8) + Math.ceil(4099 / 8));
    const gotX = new Uint8Array(1004);
    const gotY = new Uint8Array(4100);
    await readResults(gpu, gpu.ctx.device.createCommandEncoder(), [
      { buffer: x, bytes: 1004, read: into(gotX) },
      { buffer: y, bytes: 4100, read: into(gotY) },
    ]);
    expect(gotX.subarray(0, 1001)).toEqual(shared);
    expect(Array.from(gotX.subarray(1001))).toEqual([0, 0, 0]); // the last word padded with zeros
    expect(gotY.subarray(0, 4099)).toEqual(plain);
    await b.close?.();
    expect(await errorCode(webgpuBackend(jsBackend(), { stagingChunkBytes: 6 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(webgpuBackend(jsBackend(), { stagingChunkBytes: 128 << 20 }))).toBe('INVALID_ARGUMENT');
  });

  it('answers a single query over resident codes in one submission, one pass and a small readback, into the caller arrays', async () => {
    const e = await createEngine({ backend: 'webgpu', gpu: { maxBindingBytes: 1 << 16 } });
    const dim = 384;
    const base = randomBytes(20_000 * 48, 34); // 5 segments (of 4,096 rows, the least one holds)
    const resident = await e.uploadCodes(base, { dim });
    const q = randomBytes(48, 35);
    const out = { ids: new Int32Array(10), distances: new Int32Array(10) };
    for (let i = 0; i < 3; i++) {
      const before = e.stats().gpu!;
      const got = await e.hammingTopK(resident, q, { dim, k: 10, out });
      const after = e.stats().gpu!;
      expect(got.ids).toBe(out.ids);
      expect(got).toEqual(hammingTopKReference(base, q, dim, 10));
      expect(after.submits - before.submits).toBe(1);
      expect(after.passes - before.passes).toBe(1);
      expect(after.dispatches - before.dispatches).toBe(5 + 2); // bound, a filter per segment, selection
      expect(after.readMaps - before.readMaps).toBe(1);
      expect(after.readBytes - before.readBytes).toBe(10 * 4 * 2 + 4);
      expect(after.directBytes - before.directBytes).toBe(48); // the query, nothing else
    }
    resident.release();
    await e.close();
  });

  it('chooses the subgroup path as told, and never by default on a software adapter', async () => {
    const plain = await webgpuBackend(jsBackend());
    if (plain.gpu.ctx.adapter.software) expect(await plain.subgroups()).toBe('never');
    await plain.close?.();
    const off = await webgpuBackend(jsBackend(), { subgroups: false });
    expect(await off.subgroups()).toBe('never');
    await off.close?.();
    if (gpuSubgroups) {
      const on = await webgpuBackend(jsBackend(), { subgroups: true });
      expect(await on.subgroups()).toBe('always');
      await on.close?.();
    }
    // A measured choice: the entry of the largest measured base size at or below the search's.
    const pick = subgroupPick([
      { rows: 1 << 16, single: true, batch: false },
      { rows: 1 << 20, single: false, batch: false },
      { rows: 1 << 23, single: true, batch: true },
    ]);
    expect([pick(100, 1), pick(100, 64), pick(2_000_000, 1), pick(10_000_000, 1), pick(10_000_000, 100)]).toEqual([
      true,
      false,
      false,
      true,
      true,
    ]);
  });
});

describe('crossover rule', () => {
  it('moves work to the GPU only from a size where it won there and at every larger measured size', () => {
    const sizes = [1, 4, 16, 64];
    expect(crossoverFrom([false, false, true, true], sizes)).toBe(16);
    expect(crossoverFrom([true, false, true, true], sizes)).toBe(16);
    expect(crossoverFrom([true, true, true, false], sizes)).toBe(Infinity);
    expect(crossoverFrom([true, true, true, true], sizes)).toBe(1);
    expect(crossoverFrom([], sizes)).toBe(Infinity);
  });
});
