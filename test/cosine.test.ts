import { describe, expect, it } from 'vitest';

import type { DsoError } from '../src/index.js';
import { cosineCandidatesReference } from '../src/simd/reference/cosine.js';
import { announceSkips, backendCases, engineFor } from './helpers/backends.js';
import { gaussian, rng } from './helpers/random.js';

const cases = backendCases();
announceSkips(cases);

describe.each(cases)('cosineCandidates on $name', (c) => {
  it.skipIf(!c.available)('matches the reference within float rounding, NaN for -1', async () => {
    const e = await engineFor(c);
    for (const [n, dim, nq, cand] of [
      [1, 1, 1, 1],
      [50, 7, 3, 5],
      [300, 100, 4, 40],
      [200, 384, 2, 100],
      [90, 1001, 3, 9],
    ]) {
      const vectors = gaussian(n * dim, n + dim);
      const queries = gaussian(nq * dim, nq);
      const r = rng(dim);
      const rows = Int32Array.from({ length: nq * cand }, (_, i) => (i % 7 === 6 ? -1 : Math.floor(r() * n)));
      const got = await e.cosineCandidates(vectors, rows, queries, { dim });
      const want = cosineCandidatesReference(vectors, rows, queries, dim);
      for (let i = 0; i < rows.length; i++) {
        if (rows[i] < 0) expect(got[i]).toBeNaN();
        else expect(Math.abs(got[i] - want[i]), `n ${n} dim ${dim} i ${i}`).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it.skipIf(!c.available)('rejects rows outside the matrix', async () => {
    const e = await engineFor(c);
    const err = await e
      .cosineCandidates(new Float32Array(8), Int32Array.from([2]), new Float32Array(4), { dim: 4 })
      .catch((x: unknown) => x);
    expect((err as DsoError).code).toBe('INVALID_ARGUMENT');
  });
});
