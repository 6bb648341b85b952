import { describe, expect, it } from 'vitest';

import { type DsoError, medianReference, trimmedMeanReference } from '../src/index.js';
import { announceSkips, backendCases, engineFor } from './helpers/backends.js';
import { gaussian, heavyTailed, tied } from './helpers/random.js';

const cases = backendCases();
announceSkips(cases);

// n spans every sorting-network size (2..64), padding inside each, and the
// selection fallback beyond 64; d is not a multiple of 8 or 16 in most cases,
// and takes the GPU's column widths (4, 2 and 1 columns per invocation).
const NS = [1, 2, 3, 4, 5, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257];
const DS = [1, 5, 6, 16, 17, 20, 33];

describe.each(cases)('median / trimmedMean on $name', (c) => {
  it.skipIf(!c.available)('median is bit-exact with numpy semantics', async () => {
    const e = await engineFor(c);
    let seed = 100;
    for (const n of NS) {
      for (const d of DS) {
        for (const gen of [gaussian, heavyTailed, tied]) {
          const rows = gen(n * d, seed++);
          expect(await e.median(rows, { n }), `n ${n} d ${d}`).toEqual(medianReference(rows, n));
        }
      }
    }
  });

  it.skipIf(!c.available)('median is bit-exact over many columns (the GPU loops over column groups)', async () => {
    const e = await engineFor(c);
    for (const [n, d] of [
      [2, 131_076],
      [3, 65_538],
      [33, 16_390],
    ]) {
      const rows = gaussian(n * d, n);
      expect(await e.median(rows, { n }), `n ${n} d ${d}`).toEqual(medianReference(rows, n));
    }
  });

  it.skipIf(!c.available)('numpy fixture: even counts average the middle pair', async () => {
    const e = await engineFor(c);
    // np.median([[1,9],[4,2],[3,7],[10,-1]], axis=0) -> [3.5, 4.5]
    const got = await e.median(new Float32Array([1, 9, 4, 2, 3, 7, 10, -1]), { n: 4 });
    expect(Array.from(got)).toEqual([3.5, 4.5]);
  });

  it.skipIf(!c.available)('trimmed mean matches the reference (bit-exact with f64 sums, else within f32 rounding)', async () => {
    const e = await engineFor(c);
    let seed = 500;
    for (const n of NS) {
      for (const trim of [0, 0.1, 0.25, 0.49]) {
        const d = DS[seed % DS.length];
        const rows = (seed % 2 ? heavyTailed : gaussian)(n * d, seed++);
        const got = await e.trimmedMean(rows, { n, trim });
        const want = trimmedMeanReference(rows, n, trim);
        if (!c.f32Sums) {
          expect(got, `n ${n} trim ${trim}`).toEqual(want);
          continue;
        }
        // f32 summation of the kept values: error within n ulps of the mean |kept value|.
        const cut = Math.floor(trim * n);
        for (let j = 0; j < d; j++) {
          const col = Float32Array.from({ length: n }, (_, i) => rows[i * d + j]).sort();
          let meanAbs = 0;
          for (let i = cut; i < n - cut; i++) meanAbs += Math.abs(col[i]) / (n - 2 * cut);
          expect(Math.abs(got[j] - want[j]), `n ${n} trim ${trim} j ${j}`).toBeLessThanOrEqual(n * 2 ** -23 * meanAbs + 1e-30);
        }
      }
    }
    // scipy.stats.trim_mean([1, 2, 3, 4, 100], 0.2) == 3.0
    const t = await e.trimmedMean(new Float32Array([1, 2, 3, 4, 100]), { n: 5, trim: 0.2 });
    expect(Array.from(t)).toEqual([3]);
  });

  it.skipIf(!c.available)('rejects NaN / Inf with its flat index', async () => {
    const e = await engineFor(c);
    for (const n of [3, 40, 70]) {
      for (const d of [19, 20]) {
        const rows = gaussian(n * d, 9);
        rows[2 * d + d - 2] = Number.NaN;
        const err = await e.median(rows, { n }).catch((x: unknown) => x);
        expect((err as DsoError).code).toBe('NON_FINITE');
        expect((err as DsoError).message).toContain(`flat index ${2 * d + d - 2}`);
        rows[(n - 1) * d + 1] = Number.POSITIVE_INFINITY;
        const err2 = await e.trimmedMean(rows, { n, trim: 0.1 }).catch((x: unknown) => x);
        expect((err2 as DsoError).code).toBe('NON_FINITE');
      }
    }
  });
});
