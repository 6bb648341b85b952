import { describe, expect, it } from 'vitest';

import { oddEvenMergeSort, pruneTo } from '../src/gpu/sorting-network.js';
import { rng } from './helpers/random.js';

function run(network: Array<[number, number]>, values: number[]): number[] {
  const v = values.slice();
  for (const [a, b] of network) if (v[a] > v[b]) [v[a], v[b]] = [v[b], v[a]];
  return v;
}

describe('sorting networks for the GPU column programs', () => {
  it('sorts every 0/1 input up to 16 values (so every input, by the 0-1 principle)', () => {
    for (let n = 1; n <= 16; n++) {
      const net = oddEvenMergeSort(n);
      for (let bits = 0; bits < 2 ** n; bits++) {
        const v = Array.from({ length: n }, (_, i) => (bits >> i) & 1);
        const ones = v.reduce((s, x) => s + x, 0);
        const want = Array.from({ length: n }, (_, i) => (i >= n - ones ? 1 : 0));
        expect(run(net, v), `n ${n} input ${bits}`).toEqual(want);
      }
    }
  });

  it('sorts seeded random columns with ties up to 64 values; pruned networks get the wanted positions right', () => {
    const r = rng(3);
    for (let n = 17; n <= 64; n++) {
      const net = oddEvenMergeSort(n);
      const h = n >> 1;
      const median = pruneTo(net, n % 2 ? [h] : [h - 1, h]);
      const trimmed = pruneTo(
        net,
        Array.from({ length: n - 2 * (n >> 2) }, (_, i) => (n >> 2) + i),
      );
      expect(median.length).toBeLessThan(net.length);
      for (let t = 0; t < 200; t++) {
        const v = Array.from({ length: n }, () => Math.floor(r() * (t % 2 ? 5 : 1000)));
        const sorted = v.slice().sort((a, b) => a - b);
        expect(run(net, v)).toEqual(sorted);
        const m = run(median, v);
        expect([m[h - 1], m[h]].slice(n % 2)).toEqual([sorted[h - 1], sorted[h]].slice(n % 2));
        const tm = run(trimmed, v);
        for (let i = n >> 2; i < n - (n >> 2); i++) expect(tm[i]).toBe(sorted[i]);
      }
    }
  });
});
