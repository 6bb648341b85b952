/** Pure-TS bitwise majority over n packed rows: 1 iff 2 x count >= n (ties go to 1). */
import { bytesPerRow } from '../../core/checks.js';

export function majorityReference(codes: Uint8Array, n: number, dim: number): Uint8Array {
  const B = bytesPerRow(dim);
  const out = new Uint8Array(B);
  const counts = new Int32Array(dim);
  for (let i = 0; i < n; i++) {
    const o = i * B;
    for (let j = 0; j < dim; j++) counts[j] += (codes[o + (j >> 3)] >> (j & 7)) & 1;
  }
  for (let j = 0; j < dim; j++) if (2 * counts[j] >= n) out[j >> 3] |= 1 << (j & 7);
  return out;
}
