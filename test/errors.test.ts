import { describe, expect, it } from 'vitest';

import { createEngine, DsoError, type DsoErrorCode, type Engine } from '../src/index.js';
import { addonAvailable, loadAddon } from '../src/simd/addon.js';

async function code(p: Promise<unknown> | (() => unknown)): Promise<DsoErrorCode | 'no error'> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(DsoError);
    expect((e as DsoError).message.length).toBeGreaterThan(10);
    return (e as DsoError).code;
  }
  return 'no error';
}

function detached(): Float32Array {
  const f = new Float32Array(16);
  structuredClone(f.buffer, { transfer: [f.buffer] });
  return f;
}

describe.each(['js', 'native'] as const)('TS-layer validation (%s backend)', (backend) => {
  const ready = backend === 'js' || addonAvailable();
  const engine = () => createEngine({ backend });

  it.skipIf(!ready)('quantize / dequantize', async () => {
    const e: Engine = await engine();
    const x = new Float32Array(12);
    expect(await code(e.quantize(x, { dim: 0 }))).toBe('INVALID_DIM');
    expect(await code(e.quantize(x, { dim: 2.5 }))).toBe('INVALID_DIM');
    expect(await code(e.quantize(x, { dim: 5 }))).toBe('LENGTH_MISMATCH');
    expect(await code(e.quantize(x, { dim: 4, groupSize: 0 }))).toBe('INVALID_GROUP_SIZE');
    expect(await code(e.quantize(x, { dim: 4, groupSize: 5 }))).toBe('INVALID_GROUP_SIZE');
    expect(await code(e.quantize(x, { dim: 4, baseline: new Float32Array(3) }))).toBe('LENGTH_MISMATCH');
    expect(await code(e.quantize(new Float64Array(4) as unknown as Float32Array, { dim: 4 }))).toBe('INVALID_ARGUMENT');
    expect(await code(e.quantize(detached(), { dim: 4 }))).toBe('DETACHED_BUFFER');
    expect(await code(e.quantize(x, undefined as never))).toBe('INVALID_ARGUMENT');
    const q = await e.quantize(x, { dim: 4 });
    expect(await code(e.dequantize({ codes: q.codes.subarray(1), scales: q.scales }, { dim: 4 }))).toBe('LENGTH_MISMATCH');
    expect(await code(e.dequantize({ codes: q.codes, scales: new Float32Array([1, Number.NaN, 1]) }, { dim: 4 }))).toBe('INVALID_SCALE');
    expect(await code(e.dequantize({ codes: q.codes, scales: new Float32Array([1, -1, 1]) }, { dim: 4 }))).toBe('INVALID_SCALE');
  });

  it.skipIf(!ready)('hammingTopK', async () => {
    const e = await engine();
    const base = new Uint8Array(48 * 4);
    expect(await code(e.hammingTopK(base, base, { dim: 384, k: 0 }))).toBe('INVALID_K');
    expect(await code(e.hammingTopK(base, base, { dim: 384, k: 1.5 }))).toBe('INVALID_K');
    expect(await code(e.hammingTopK(base, base, { dim: 0, k: 1 }))).toBe('INVALID_DIM');
    expect(await code(e.hammingTopK(base.subarray(1), base, { dim: 384, k: 1 }))).toBe('LENGTH_MISMATCH');
    expect(await code(e.hammingTopK(base, base.subarray(3), { dim: 384, k: 1 }))).toBe('LENGTH_MISMATCH');
    expect(await code(e.hammingTopK(base, new Uint16Array(4) as unknown as Uint8Array, { dim: 16, k: 1 }))).toBe('INVALID_ARGUMENT');
    expect(await code(e.hammingTopK(base, base, { dim: 384, k: 2 ** 31 }))).toBe('INVALID_K');
    expect(await code(e.uploadCodes(base.subarray(1), { dim: 384 }))).toBe('LENGTH_MISMATCH');
    expect(await code(e.uploadCodes(base, { dim: 0 }))).toBe('INVALID_DIM');
    expect(await code(e.uploadCodes(new Float32Array(4) as unknown as Uint8Array, { dim: 8 }))).toBe('INVALID_ARGUMENT');
  });

  it.skipIf(!ready)('median / trimmedMean / majority', async () => {
    const e = await engine();
    const rows = new Float32Array(12);
    expect(await code(e.median(rows, { n: 0 }))).toBe('INVALID_COUNT');
    expect(await code(e.median(rows, { n: 5 }))).toBe('LENGTH_MISMATCH');
    expect(await code(e.median(detached(), { n: 4 }))).toBe('DETACHED_BUFFER');
    expect(await code(e.trimmedMean(rows, { n: 4, trim: 0.5 }))).toBe('INVALID_TRIM');
    expect(await code(e.trimmedMean(rows, { n: 4, trim: -0.1 }))).toBe('INVALID_TRIM');
    expect(await code(e.trimmedMean(rows, { n: 4, trim: Number.NaN }))).toBe('INVALID_TRIM');
    expect(await code(e.majority(new Uint8Array(5), { n: 2, dim: 16 }))).toBe('LENGTH_MISMATCH');
    expect(await code(e.majority(new Uint8Array(4), { n: 2, dim: 0 }))).toBe('INVALID_DIM');
  });

  it.skipIf(!ready)('a closed engine refuses work', async () => {
    const e = await engine();
    await e.close();
    expect(await code(e.median(new Float32Array(4), { n: 2 }))).toBe('ENGINE_CLOSED');
  });
});

describe('engine selection', () => {
  it('rejects unknown backends and tiers', async () => {
    expect(await code(createEngine({ backend: 'cuda' as never }))).toBe('BACKEND_UNAVAILABLE');
    expect(await code(createEngine({ backend: 'js', isa: 'avx2' }))).toBe('INVALID_ARGUMENT');
  });

  it.skipIf(!addonAvailable())('an ISA tier this build or CPU lacks is ISA_UNAVAILABLE', async () => {
    const cpu = loadAddon().cpuInfo();
    const missing = (['serial', 'avx2', 'avx512', 'neon'] as const).find((t) => !cpu.available.includes(t));
    expect(missing).toBeDefined();
    expect(await code(createEngine({ backend: 'native', isa: missing }))).toBe('ISA_UNAVAILABLE');
    expect(await code(() => loadAddon().median(new Float32Array(2), 1, { isa: 'sse9' as never }))).toBe('ISA_UNAVAILABLE');
  });
});

describe.skipIf(!addonAvailable())('native-layer validation (addon called directly, no TS checks)', () => {
  const a = () => loadAddon();

  it('short and mismatched buffers are typed errors, never reads past the end', async () => {
    expect(await code(() => a().pack(new Float32Array(5), 2, undefined, null))).toBe('LENGTH_MISMATCH');
    expect(await code(() => a().pack(new Float32Array(4), 0, undefined, null))).toBe('INVALID_DIM');
    expect(await code(() => a().pack(new Float32Array(4), 4, 9, null))).toBe('INVALID_GROUP_SIZE');
    expect(await code(() => a().pack(new Float32Array(4), 4, undefined, new Float32Array(3)))).toBe('LENGTH_MISMATCH');
    expect(await code(() => a().pack(new Float32Array(4), 4, undefined, new Float32Array([0, Number.NaN, 0, 0])))).toBe('NON_FINITE');
    expect(await code(() => a().pack(new Float32Array([1, Number.NaN]), 2, undefined, null))).toBe('NON_FINITE');
    expect(await code(() => a().dequantize(new Uint8Array(1), new Float32Array(2), 8, undefined, null))).toBe('LENGTH_MISMATCH');
    expect(await code(() => a().hammingTopK(new Uint8Array(47), new Uint8Array(48), 384, 1))).toBe('LENGTH_MISMATCH');
    expect(await code(() => a().hammingTopK(new Uint8Array(48), new Uint8Array(48), 384, 0))).toBe('INVALID_K');
    expect(await code(() => a().hammingTopK(new Uint8Array(48), new Uint8Array(48), 384, -3))).toBe('INVALID_K');
    expect(await code(() => a().median(new Float32Array(7), 2))).toBe('LENGTH_MISMATCH');
    expect(await code(() => a().median(new Float32Array(8), 0))).toBe('INVALID_COUNT');
    expect(await code(() => a().trimmedMean(new Float32Array(8), 2, 0.7))).toBe('INVALID_TRIM');
    expect(await code(() => a().majority(new Uint8Array(3), 2, 16))).toBe('LENGTH_MISMATCH');
  });

  it('wrong types, missing arguments and detached buffers', async () => {
    expect(await code(() => a().pack([1, 2] as unknown as Float32Array, 2, undefined, null))).toBe('INVALID_ARGUMENT');
    expect(await code(() => (a().median as (...x: unknown[]) => unknown)())).toBe('INVALID_ARGUMENT');
    expect(await code(() => a().median(detached(), 4))).toBe('DETACHED_BUFFER');
    expect(await code(() => a().hammingTopK(new Uint8Array(8), new Uint8Array(8), '64' as never, 1))).toBe('INVALID_DIM');
    expect(await code(() => a().median(new Float32Array(8), 2, 'fast' as never))).toBe('INVALID_ARGUMENT');
    const unaligned = new Float32Array(new Uint8Array(20).buffer.slice(0), 4, 2);
    expect(await code(() => a().median(unaligned, 2))).toBe('no error');
  });

  it('async calls reject with the same typed errors', async () => {
    expect(await code(a().median(new Float32Array([1, Number.POSITIVE_INFINITY]), 2, { async: true }) as Promise<unknown>)).toBe(
      'NON_FINITE',
    );
  });
});

describe('inlineBytes', () => {
  it('is validated, and any bound gives the same results', async () => {
    await expect(createEngine({ inlineBytes: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(createEngine({ inlineBytes: 1.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const base = new Uint8Array(48 * 300).map((_, i) => (i * 2654435761) >>> 24);
    const q = base.slice(48 * 7, 48 * 9);
    const results = [];
    for (const inlineBytes of [0, 1 << 30]) {
      const e = await createEngine({ backend: addonAvailable() ? 'native' : 'js', inlineBytes });
      results.push(await e.hammingTopK(base, q, { dim: 384, k: 5 }));
      await e.close();
    }
    expect(results[0]).toEqual(results[1]);
    expect(results[0].ids[0]).toBe(7);
  });
});
