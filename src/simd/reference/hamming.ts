/**
 * Pure-TS exact Hamming top-k. Distances of one query to every row, then a
 * counting selection over the bounded distance range (0..dim): ascending
 * distance, ties to the smaller id, -1 padding past n. Padding bits of the
 * last byte are ignored.
 */
import { bytesPerRow } from '../../core/checks.js';

const POPCOUNT8 = (() => {
  const t = new Uint8Array(256);
  for (let i = 1; i < 256; i++) t[i] = (i & 1) + t[i >> 1];
  return t;
})();

/** Bits that differ between two codes of equal length (the ones outside a kernel's hot loop). */
export function codeDistance(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += POPCOUNT8[a[i] ^ b[i]];
  return d;
}

/** Share of equal bits between two codes of equal length. */
export function codeAgreement(a: Uint8Array, b: Uint8Array): number {
  return 1 - codeDistance(a, b) / (a.length * 8);
}

export function hammingTopKReference(
  base: Uint8Array,
  queries: Uint8Array,
  dim: number,
  k: number,
): { ids: Int32Array; distances: Int32Array } {
  const B = bytesPerRow(dim);
  const n = base.length / B;
  const nq = queries.length / B;
  const lastMask = dim & 7 ? (1 << (dim & 7)) - 1 : 0xff;
  const ids = new Int32Array(nq * k).fill(-1);
  const distances = new Int32Array(nq * k).fill(-1);
  const dist = new Int32Array(n);
  const hist = new Int32Array(dim + 2);
  for (let q = 0; q < nq; q++) {
    const qo = q * B;
    for (let r = 0; r < n; r++) {
      const ro = r * B;
      let d = 0;
      for (let b = 0; b < B - 1; b++) d += POPCOUNT8[base[ro + b] ^ queries[qo + b]];
      d += POPCOUNT8[(base[ro + B - 1] ^ queries[qo + B - 1]) & lastMask];
      dist[r] = d;
    }
    const take = Math.min(k, n);
    if (take === 0) continue;
    hist.fill(0);
    for (let r = 0; r < n; r++) hist[dist[r]]++;
    // Slot offsets per distance for the `take` best; rows scanned in id order keep ties by id.
    let placed = 0;
    for (let d = 0; d <= dim; d++) {
      const c = hist[d];
      hist[d] = placed;
      placed += c;
    }
    const o = q * k;
    for (let r = 0; r < n; r++) {
      const slot = hist[dist[r]]++;
      if (slot < take) {
        ids[o + slot] = r;
        distances[o + slot] = dist[r];
      }
    }
  }
  return { ids, distances };
}
