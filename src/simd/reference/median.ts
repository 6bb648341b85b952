/**
 * Pure-TS coordinate-wise median (numpy semantics: an even count averages the
 * two middle values, in float32) and trimmed mean (scipy.stats.trim_mean:
 * floor(trim * n) values cut from each end; the kept values summed in
 * ascending order in double).
 */
import { DsoError } from '../../core/errors.js';

function column(rows: Float32Array, n: number, d: number, j: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const v = rows[i * d + j];
    if (!Number.isFinite(v)) {
      throw new DsoError('NON_FINITE', `rows holds a NaN or infinite value at flat index ${i * d + j}`);
    }
    out[i] = v;
  }
  out.sort();
}

export function medianReference(rows: Float32Array, n: number): Float32Array {
  const d = rows.length / n;
  const out = new Float32Array(d);
  const col = new Float32Array(n);
  const k = n >> 1;
  for (let j = 0; j < d; j++) {
    column(rows, n, d, j, col);
    out[j] = n & 1 ? col[k] : Math.fround(col[k - 1] + col[k]) * 0.5;
  }
  return out;
}

export function trimmedMeanReference(rows: Float32Array, n: number, trim: number): Float32Array {
  const d = rows.length / n;
  const cut = Math.floor(trim * n);
  const out = new Float32Array(d);
  const col = new Float32Array(n);
  for (let j = 0; j < d; j++) {
    column(rows, n, d, j, col);
    let sum = 0;
    for (let i = cut; i < n - cut; i++) sum += col[i];
    out[j] = sum / (n - 2 * cut);
  }
  return out;
}
