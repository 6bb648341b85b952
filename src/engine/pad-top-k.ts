/** Widens top-k lists to `k` slots per query (-1 past the results), ids shifted by `idOffset`; into `out` where given. */
import { holding } from './out.js';
import type { TopK } from './types.js';

export function padTopK(r: TopK, nq: number, k: number, idOffset = 0, out?: TopK): TopK {
  const width = nq === 0 ? k : r.ids.length / nq;
  if (width === k && idOffset === 0 && out === undefined) return r;
  const ids = out ? holding(out.ids).fill(-1) : new Int32Array(nq * k).fill(-1);
  const distances = out ? holding(out.distances).fill(-1) : new Int32Array(nq * k).fill(-1);
  for (let q = 0; q < nq; q++) {
    for (let j = 0; j < Math.min(width, k); j++) {
      const id = r.ids[q * width + j];
      if (id < 0) break;
      ids[q * k + j] = id + idOffset;
      distances[q * k + j] = r.distances[q * width + j];
    }
  }
  return { ids, distances };
}
