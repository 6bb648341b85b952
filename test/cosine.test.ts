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

  it.skipIf(!c.available)('agrees with the reference on every finite magnitude: huge, subnormal, mixed and long rows', async () => {
    const e = await engineFor(c);
    const r = rng(7);
    // [dim, query value, row value] generators: squares that overflow float32, products that underflow it, and a long row.
    const edges: Array<[number, (j: number) => number, (j: number) => number]> = [
      [384, () => 1e19 * (r() - 0.5), () => 3e19 * (r() - 0.5)],
      [384, () => 3e38 * (r() - 0.5), () => 1e37 * (r() - 0.5)],
      [384, () => 1e-40 * (r() - 0.5), () => 1e-42 * r()],
      [384, () => 1e-20 * (r() - 0.5), () => 1e-20 * (r() - 0.5)],
      [100, () => 1e30 * (r() - 0.5), () => 1e-30 * (r() - 0.5)],
      [7, (j) => (j === 0 ? 3e38 : 1e-45), (j) => (j === 0 ? 1e-45 : 3e38)],
      [65_536, () => r() - 0.5, () => r() - 0.4],
    ];
    for (const [dim, qv, rv] of edges) {
      const n = 3;
      const vectors = Float32Array.from({ length: n * dim }, (_, i) => rv(i % dim));
      const queries = Float32Array.from({ length: 2 * dim }, (_, i) => qv(i % dim));
      const rows = Int32Array.from([0, 1, 2, 2, 1, 0]);
      const got = await e.cosineCandidates(vectors, rows, queries, { dim });
      const want = cosineCandidatesReference(vectors, rows, queries, dim);
      for (let i = 0; i < rows.length; i++) {
        expect(Number.isFinite(want[i])).toBe(true);
        expect(
          Math.abs(got[i] - want[i]),
          `dim ${dim} q ${queries[0]} v ${vectors[0]} i ${i}: ${got[i]} vs ${want[i]}`,
        ).toBeLessThanOrEqual(1e-5);
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
