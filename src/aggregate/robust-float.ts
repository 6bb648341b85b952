/**
 * Byzantine-robust aggregation of float deltas: the coordinate-wise trimmed
 * mean (engine kernel) and Krum / multi-Krum (Blanchard et al., 2017), which
 * picks the deltas closest to their n - f - 2 nearest neighbours, so up to f
 * arbitrary deltas cannot be chosen unless they sit among the honest ones.
 */
import { isArray } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { withEngine } from '../engine/lazy-engine.js';
import type { Engine } from '../engine/types.js';

function stack(deltas: readonly Float32Array[]): { rows: Float32Array; n: number; d: number } {
  if (!isArray(deltas) || deltas.length === 0) throw new DsoError('INVALID_COUNT', 'needs at least one delta');
  const d = deltas[0].length;
  const rows = new Float32Array(deltas.length * d);
  deltas.forEach((x, i) => {
    if (!(x instanceof Float32Array) || x.length !== d)
      throw new DsoError('LENGTH_MISMATCH', `delta ${i} must be a Float32Array of ${d} values`);
    rows.set(x, i * d);
  });
  return { rows, n: deltas.length, d };
}

export async function trimmedMeanDeltas(
  deltas: readonly Float32Array[],
  opts: { trim?: number; engine?: Engine } = {},
): Promise<Float32Array> {
  const { rows, n } = stack(deltas);
  return withEngine(opts.engine, (engine) => engine.trimmedMean(rows, { n, trim: opts.trim ?? 0.1 }));
}

/**
 * Multi-Krum: the mean of the `m` deltas (default 1: Krum) with the lowest
 * sum of squared distances to their n - f - 2 nearest others, assuming at
 * most f Byzantine deltas (Krum needs n > 2f + 2). Returns the aggregate and
 * the indices chosen.
 */
export function krum(deltas: readonly Float32Array[], opts: { f: number; m?: number }): { delta: Float32Array; selected: number[] } {
  const { rows, n, d } = stack(deltas);
  const f = opts.f;
  const m = opts.m ?? 1;
  if (!Number.isInteger(f) || f < 0 || n <= 2 * f + 2) throw new DsoError('INVALID_COUNT', `Krum needs n > 2f + 2; got n = ${n}, f = ${f}`);
  if (!Number.isInteger(m) || m < 1 || m > n - f) throw new DsoError('INVALID_COUNT', `m must be in [1, n - f] = [1, ${n - f}], got ${m}`);
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = rows[i * d + k] - rows[j * d + k];
        s += t * t;
      }
      dist[i * n + j] = dist[j * n + i] = s;
    }
  }
  const near = n - f - 2;
  const score = Array.from({ length: n }, (_, i) => {
    const others = Array.from({ length: n }, (_, j) => dist[i * n + j])
      .filter((_, j) => j !== i)
      .sort((a, b) => a - b);
    return others.slice(0, near).reduce((s, v) => s + v, 0);
  });
  const selected = score
    .map((_, i) => i)
    .sort((a, b) => score[a] - score[b] || a - b)
    .slice(0, m);
  const delta = new Float32Array(d);
  for (const i of selected) for (let k = 0; k < d; k++) delta[k] += rows[i * d + k] / m;
  return { delta, selected };
}
