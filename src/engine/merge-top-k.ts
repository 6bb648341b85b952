/** Merges top-k lists of disjoint row ranges, each ascending by (distance, row), into the global top-k. */
import type { TopK } from './types.js';

export function mergeTopK(parts: readonly TopK[], nq: number, k: number): TopK {
  const ids = new Int32Array(nq * k).fill(-1);
  const distances = new Int32Array(nq * k).fill(-1);
  const heads = new Int32Array(parts.length);
  for (let q = 0; q < nq; q++) {
    heads.fill(0);
    for (let slot = 0; slot < k; slot++) {
      let best = -1;
      for (let p = 0; p < parts.length; p++) {
        const h = heads[p];
        if (h >= k) continue;
        const id = parts[p].ids[q * k + h];
        if (id < 0) continue;
        if (best < 0) {
          best = p;
          continue;
        }
        const d = parts[p].distances[q * k + h];
        const bd = parts[best].distances[q * k + heads[best]];
        if (d < bd || (d === bd && id < parts[best].ids[q * k + heads[best]])) best = p;
      }
      if (best < 0) break;
      ids[q * k + slot] = parts[best].ids[q * k + heads[best]];
      distances[q * k + slot] = parts[best].distances[q * k + heads[best]];
      heads[best]++;
    }
  }
  return { ids, distances };
}
