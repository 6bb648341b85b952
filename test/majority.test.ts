import { describe, expect, it } from 'vitest';

import { majorityReference } from '../src/index.js';
import { announceSkips, backendCases, engineFor } from './helpers/backends.js';
import { randomBytes, rng } from './helpers/random.js';

const cases = backendCases();
announceSkips(cases);

/** Rows biased towards a shared pattern, with some bits split exactly in half. */
function votes(n: number, dim: number, seed: number): Uint8Array {
  const B = Math.ceil(dim / 8);
  const truth = randomBytes(B, seed);
  const r = rng(seed + 1);
  const out = new Uint8Array(n * B);
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < B; b++) out[i * B + b] = r() < 0.6 ? truth[b] : Math.floor(r() * 256);
    if (dim & 7) out[i * B + B - 1] &= (1 << (dim & 7)) - 1;
  }
  return out;
}

describe.each(cases)('majority on $name', (c) => {
  it.skipIf(!c.available)('is bit-exact with the reference (ties go to 1)', async () => {
    const e = await engineFor(c);
    let seed = 1;
    for (const n of [1, 2, 3, 4, 7, 63, 64, 65, 128]) {
      for (const dim of [1, 7, 9, 100, 513, 8193, 20000]) {
        const codes = votes(n, dim, seed++);
        expect(await e.majority(codes, { n, dim }), `n ${n} dim ${dim}`).toEqual(majorityReference(codes, n, dim));
      }
    }
  });

  it.skipIf(!c.available)('breaks an exact split towards 1 and leaves padding bits 0', async () => {
    const e = await engineFor(c);
    const got = await e.majority(new Uint8Array([0b1010, 0b0110]), { n: 2, dim: 4 });
    expect(Array.from(got)).toEqual([0b1110]);
    const three = await e.majority(new Uint8Array([0xff, 0xff, 0xff]), { n: 3, dim: 5 });
    expect(Array.from(three)).toEqual([0b11111]);
  });
});
