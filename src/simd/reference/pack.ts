/**
 * Pure-TS sign packing (the `js` backend and the reference every kernel is
 * tested against). Bit j of a row is 1 iff fround(x[j] - baseline[j]) > 0, in
 * little bit order (numpy.packbits(..., bitorder='little')); the scale of a
 * group is the mean |delta| over its dims, summed in double.
 */
import type { PackShape } from '../../core/checks.js';
import { DsoError } from '../../core/errors.js';

export function packReference(x: Float32Array, s: PackShape, baseline?: Float32Array): { codes: Uint8Array; scales: Float32Array } {
  const { rows, dim, groupSize, groups, bytesPerRow } = s;
  const codes = new Uint8Array(rows * bytesPerRow);
  const scales = new Float32Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    const xo = r * dim;
    const co = r * bytesPerRow;
    for (let g = 0; g < groups; g++) {
      const j0 = g * groupSize;
      const j1 = Math.min(j0 + groupSize, dim);
      let sum = 0;
      for (let j = j0; j < j1; j++) {
        const v = baseline ? Math.fround(x[xo + j] - baseline[j]) : x[xo + j];
        if (!Number.isFinite(v)) {
          throw new DsoError('NON_FINITE', `x holds a NaN or infinite value (or x - baseline overflows) in row ${r}`);
        }
        if (v > 0) codes[co + (j >> 3)] |= 1 << (j & 7);
        sum += Math.abs(v);
      }
      scales[r * groups + g] = sum / (j1 - j0);
    }
  }
  return { codes, scales };
}

export function dequantizeReference(codes: Uint8Array, scales: Float32Array, s: PackShape, baseline?: Float32Array): Float32Array {
  const { rows, dim, groupSize, groups, bytesPerRow } = s;
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < dim; j++) {
      const sc = scales[r * groups + Math.floor(j / groupSize)];
      const v = (codes[r * bytesPerRow + (j >> 3)] >> (j & 7)) & 1 ? sc : -sc;
      out[r * dim + j] = baseline ? baseline[j] + v : v;
    }
  }
  return out;
}
