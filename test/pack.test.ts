import { describe, expect, it } from 'vitest';

import { DsoError, packReference } from '../src/index.js';
import { announceSkips, backendCases, engineFor } from './helpers/backends.js';
import { gaussian, heavyTailed, tied } from './helpers/random.js';

const cases = backendCases();
announceSkips(cases);

// Expected bytes and scales computed independently with numpy:
//   np.packbits(x > 0, axis=1, bitorder='little'), np.abs(x).mean(axis=1)
const NUMPY_X = [
  [0.5, -1, 2, 0, -0.1, 3, 3, -2, 1.5, -7, 0.25],
  [-1, -1, -1, -1, -1, -1, -1, -1, 1, 1, 1],
];
const NUMPY_CODES = [101, 5, 0, 7];
const NUMPY_SCALES = [1.850000023841858, 1.0];
// rng = np.random.default_rng(7); y = rng.standard_normal((3, 20)).astype(np.float32).round(3)
// b = np.linspace(-0.5, 0.5, 20).astype(np.float32); np.packbits((y - b) > 0, axis=1, bitorder='little')
const Y = [
  0.001, 0.299, -0.274, -0.891, -0.455, -0.992, 0.06, 1.34, -0.492, -0.62, 0.49, 0.357, 0.105, -0.93, -0.029, 0.695, -1.344, -0.458, -1.901,
  -1.29, -1.842, -0.235, -1.267, 0.271, 0.157, -0.187, -2.517, -0.539, -0.049, 0.113, -1.53, -0.478, -0.979, -0.809, 1.061, -0.808, -0.033,
  0.884, -0.584, -0.112, 0.11, 0.064, -1.225, 0.076, 1.359, -1.547, 0.859, 0.119, -0.641, 2.0, 0.762, -1.199, 0.075, 0.577, -0.189, 0.683,
  -0.067, 0.667, 1.439, -0.676,
];
const B = [
  -0.5, -0.44736841320991516, -0.3947368562221527, -0.34210526943206787, -0.28947368264198303, -0.2368421107530594, -0.18421052396297455,
  -0.1315789520740509, -0.07894736528396606, -0.02631578966975212, 0.02631578966975212, 0.07894736528396606, 0.1315789520740509,
  0.18421052396297455, 0.2368421107530594, 0.28947368264198303, 0.34210526943206787, 0.3947368562221527, 0.44736841320991516, 0.5,
];
const Y_CODES_BASELINE = [199, 140, 0, 58, 67, 2, 219, 166, 6];
const Y_CODES = [195, 156, 0, 24, 66, 2, 219, 182, 6];

/**
 * Scales are sums in different orders per tier: stated tolerance 1e-5
 * relative. WGSL may flush subnormals to zero, so on the GPU a scale may also
 * be off by up to the smallest normal float32 (2^-126).
 */
function expectScalesClose(got: Float32Array, want: Float32Array, flushesSubnormals = false) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const allowed = Math.max(1e-5 * Math.abs(want[i]), flushesSubnormals ? 2 ** -126 : 0);
    expect(Math.abs(got[i] - want[i]), `scale ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(allowed);
  }
}

const SHAPES: Array<[rows: number, dim: number, group?: number]> = [
  [1, 1],
  [3, 7],
  [5, 9],
  [4, 17, 5],
  [2, 63],
  [3, 64, 16],
  [7, 65, 13],
  [9, 100, 33],
  [16, 384],
  [16, 384, 64],
  [5, 513, 100],
  [3, 1100, 7],
];

describe.each(cases)('quantize / dequantize on $name', (c) => {
  it.skipIf(!c.available)('packs like numpy.packbits(bitorder=little) with mean-|x| scales', async () => {
    const e = await engineFor(c);
    const q = await e.quantize(new Float32Array(NUMPY_X.flat()), { dim: 11 });
    expect(Array.from(q.codes)).toEqual(NUMPY_CODES);
    expectScalesClose(q.scales, new Float32Array(NUMPY_SCALES));
    const y = await e.quantize(new Float32Array(Y), { dim: 20 });
    expect(Array.from(y.codes)).toEqual(Y_CODES);
    const yb = await e.quantize(new Float32Array(Y), { dim: 20, baseline: new Float32Array(B) });
    expect(Array.from(yb.codes)).toEqual(Y_CODES_BASELINE);
  });

  it.skipIf(!c.available)('matches the reference on awkward shapes, groups, baselines and heavy tails', async () => {
    const e = await engineFor(c);
    let seed = 1;
    for (const [rows, dim, groupSize] of SHAPES) {
      for (const gen of [gaussian, heavyTailed, tied]) {
        const x = gen(rows * dim, seed++);
        const baseline = seed % 2 ? gaussian(dim, seed + 1000) : undefined;
        const s = { rows, dim, groupSize: groupSize ?? dim, groups: Math.ceil(dim / (groupSize ?? dim)), bytesPerRow: Math.ceil(dim / 8) };
        const want = packReference(x, s, baseline);
        const got = await e.quantize(x, { dim, groupSize, baseline });
        expect(got.codes).toEqual(want.codes);
        expectScalesClose(got.scales, want.scales);
        // Dequantize is exact: baseline + (bit ? +scale : -scale) in float32.
        const back = await e.dequantize(want, { dim, groupSize, baseline });
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < dim; j++) {
            const sc = want.scales[r * s.groups + Math.floor(j / s.groupSize)];
            const bit = (want.codes[r * s.bytesPerRow + (j >> 3)] >> (j & 7)) & 1;
            const v = bit ? sc : -sc;
            expect(back[r * dim + j]).toBe(baseline ? Math.fround(baseline[j] + v) : v);
          }
        }
      }
    }
  });

  it.skipIf(!c.available)('keeps scales within tolerance at the edges of float32: huge, tiny and long rows', async () => {
    const e = await engineFor(c);
    // [rows, dim, groupSize, value of element j]: sums that overflow float32, subnormals, and rows long enough
    // for a float sum's rounding to show.
    const edges: Array<[number, number, number | undefined, (j: number) => number]> = [
      [1, 384, undefined, () => 1e37],
      [2, 384, 64, (j) => (j % 2 ? -3.4e38 : 3.4e38)],
      [1, 100, 7, (j) => (j % 3 ? 2e38 : -1e-30)],
      [1, 384, undefined, (j) => (j % 2 ? 1e-40 : -3e-42)],
      [1, 65_536, undefined, (j) => (j === 0 ? 1e6 : 1 + (j % 7) * 1e-3)],
      [1, 100_000, 33_333, (j) => Math.tan(j) * 1e30],
    ];
    for (const [rows, dim, groupSize, value] of edges) {
      const x = Float32Array.from({ length: rows * dim }, (_, i) => value(i % dim));
      const s = { rows, dim, groupSize: groupSize ?? dim, groups: Math.ceil(dim / (groupSize ?? dim)), bytesPerRow: Math.ceil(dim / 8) };
      const got = await e.quantize(x, { dim, groupSize });
      const want = packReference(x, s);
      expect(got.codes).toEqual(want.codes);
      for (const v of got.scales) expect(Number.isFinite(v), `dim ${dim}: scale ${v}`).toBe(true);
      expectScalesClose(got.scales, want.scales, c.f32Sums);
    }
  });

  it.skipIf(!c.available)('handles zero rows', async () => {
    const e = await engineFor(c);
    const q = await e.quantize(new Float32Array(0), { dim: 8 });
    expect(q.codes.length).toBe(0);
    expect(q.scales.length).toBe(0);
  });

  it.skipIf(!c.available)('rejects NaN and infinite values with the row, writing nothing', async () => {
    const e = await engineFor(c);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const x = gaussian(5 * 33, 3);
      x[3 * 33 + 31] = bad;
      const err = await e.quantize(x, { dim: 33 }).catch((er: unknown) => er);
      expect(err).toBeInstanceOf(DsoError);
      expect((err as DsoError).code).toBe('NON_FINITE');
      expect((err as DsoError).message).toContain('row 3');
    }
    // x - baseline overflowing float32 is not representable either.
    const x = new Float32Array([3e38, 1]);
    const err = await e.quantize(x, { dim: 2, baseline: new Float32Array([-3e38, 0]) }).catch((er: unknown) => er);
    expect((err as DsoError).code).toBe('NON_FINITE');
  });
});
