import { describe, expect, it } from 'vitest';

import { hammingTopKReference } from '../src/index.js';
import { announceSkips, backendCases, engineFor } from './helpers/backends.js';
import { randomBytes, rng } from './helpers/random.js';

const cases = backendCases();
announceSkips(cases);

/** Codes with many duplicated rows, so equal distances (ties) are common. */
function tiedCodes(rows: number, B: number, seed: number): Uint8Array {
  const proto = randomBytes(4 * B, seed);
  const r = rng(seed + 1);
  const out = new Uint8Array(rows * B);
  for (let i = 0; i < rows; i++) {
    const p = Math.floor(r() * 4);
    out.set(proto.subarray(p * B, p * B + B), i * B);
    if (r() < 0.3) out[i * B + Math.floor(r() * B)] ^= 1 << Math.floor(r() * 8);
  }
  return out;
}

/** Sets the padding bits of every row's last byte, which kernels must ignore. */
function dirtyPadding(codes: Uint8Array, dim: number): Uint8Array {
  const B = Math.ceil(dim / 8);
  const out = codes.slice();
  if (dim & 7) for (let i = B - 1; i < out.length; i += B) out[i] |= 0xff << (dim & 7);
  return out;
}

// [dim, n, nq, k]: dims not multiples of 8/32/64/512, one row, more queries
// than rows, k > n, several tiles (R <= 512 rows), runtime word counts (> 16
// words); one or two queries over rows of whole words (the streaming kernel),
// with row counts that are not multiples of 8.
const SHAPES: Array<[number, number, number, number]> = [
  [1, 1, 1, 1],
  [7, 3, 5, 4],
  [9, 10, 3, 10],
  [63, 17, 40, 3],
  [64, 33, 2, 1],
  [65, 129, 7, 16],
  [100, 515, 9, 10],
  [384, 1030, 11, 10],
  [384, 1, 3, 5],
  [513, 700, 5, 600],
  [1000, 300, 4, 7],
  [1100, 270, 3, 300],
  [2049, 64, 2, 9],
  [64, 8, 1, 8],
  [128, 1003, 1, 10],
  [320, 9, 2, 3],
  [384, 15, 1, 20],
  [512, 77, 2, 100],
];

describe.each(cases)('hammingTopK on $name', (c) => {
  it.skipIf(!c.available)('is bit-exact with the reference on awkward shapes', async () => {
    const e = await engineFor(c);
    let seed = 11;
    for (const [dim, n, nq, k] of SHAPES) {
      const B = Math.ceil(dim / 8);
      for (const base of [randomBytes(n * B, seed++), tiedCodes(n, B, seed++)]) {
        const queries = seed % 3 ? randomBytes(nq * B, seed++) : base.slice(0, Math.min(n, nq) * B);
        const want = hammingTopKReference(base, queries, dim, k);
        const got = await e.hammingTopK(base, queries, { dim, k });
        expect(got.ids, `dim ${dim} n ${n} nq ${nq} k ${k}`).toEqual(want.ids);
        expect(got.distances).toEqual(want.distances);
      }
    }
  });

  it.skipIf(!c.available)('ignores padding bits and pads missing results with -1', async () => {
    const e = await engineFor(c);
    const dim = 13;
    const base = randomBytes(2 * 2, 5);
    const queries = randomBytes(3 * 2, 6);
    const want = hammingTopKReference(base, queries, dim, 4);
    const got = await e.hammingTopK(dirtyPadding(base, dim), dirtyPadding(queries, dim), { dim, k: 4 });
    expect(got).toEqual(want);
    for (let q = 0; q < 3; q++) expect(Array.from(got.ids.subarray(q * 4 + 2, q * 4 + 4))).toEqual([-1, -1]);
  });

  it.skipIf(!c.available)('ignores padding bits of rows of whole bytes and words', async () => {
    const e = await engineFor(c);
    const dim = 380; // 48 bytes a row: whole words, 4 padding bits
    const base = randomBytes(203 * 48, 7);
    for (const nq of [1, 2, 3]) {
      const queries = randomBytes(nq * 48, 8 + nq);
      const want = hammingTopKReference(base, queries, dim, 9);
      expect(await e.hammingTopK(dirtyPadding(base, dim), dirtyPadding(queries, dim), { dim, k: 9 })).toEqual(want);
    }
  });

  it.skipIf(!c.available)('orders equal distances by the smaller id', async () => {
    const e = await engineFor(c);
    const dim = 16;
    const base = new Uint8Array(50 * 2); // every row identical: all distances tie
    const got = await e.hammingTopK(base, new Uint8Array([1, 0]), { dim, k: 5 });
    expect(Array.from(got.ids)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(got.distances)).toEqual([1, 1, 1, 1, 1]);
  });

  it.skipIf(!c.available)('answers an empty base and no queries', async () => {
    const e = await engineFor(c);
    const none = await e.hammingTopK(new Uint8Array(0), new Uint8Array(8), { dim: 64, k: 2 });
    expect(Array.from(none.ids)).toEqual([-1, -1]);
    const empty = await e.hammingTopK(new Uint8Array(8), new Uint8Array(0), { dim: 64, k: 2 });
    expect(empty.ids.length).toBe(0);
  });
});
