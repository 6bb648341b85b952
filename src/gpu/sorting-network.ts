/**
 * Batcher's odd-even merge sort as a list of compare-exchanges, for writing
 * straight-line WGSL: with every index a literal, a column of n values stays
 * in registers, where a loop over a private array would index it at run time
 * and spill it to memory.
 */

/** Compare-exchanges (i < l: min to i, max to l) that sort n values ascending. */
export function oddEvenMergeSort(n: number): Array<[number, number]> {
  let size = 1;
  while (size < n) size *= 2;
  const out: Array<[number, number]> = [];
  for (let p = 1; p < size; p *= 2) {
    for (let k = p; k >= 1; k = Math.floor(k / 2)) {
      for (let j = k % p; j + k < size; j += 2 * k) {
        for (let i = 0; i < Math.min(k, size - j - k); i++) {
          const a = i + j;
          const b = i + j + k;
          // Every exchange sends the minimum down, so one against a missing
          // (+infinity) value above n changes nothing: the network for the
          // next power of two, cut to n, still sorts n values.
          if (Math.floor(a / (2 * p)) === Math.floor(b / (2 * p)) && b < n) out.push([a, b]);
        }
      }
    }
  }
  return out;
}

/** The exchanges that can change positions `wanted` once the network has run; the rest are dropped. */
export function pruneTo(network: Array<[number, number]>, wanted: Iterable<number>): Array<[number, number]> {
  const needed = new Set(wanted);
  const kept: Array<[number, number]> = [];
  for (let e = network.length - 1; e >= 0; e--) {
    const [a, b] = network[e];
    if (!needed.has(a) && !needed.has(b)) continue;
    needed.add(a);
    needed.add(b);
    kept.push(network[e]);
  }
  return kept.reverse();
}
