/**
 * The numbers of an evaluation: pass@1 (the chance one sample is right) and
 * pass@k (at least one of k samples is right) per problem, their means, and
 * 95% confidence intervals from a bootstrap over problems: for one
 * condition, of its mean; between two conditions, of the mean paired
 * difference (each resample keeps a problem's two scores together, so the
 * problems' difficulty cancels out).
 */
import { seededRandom } from '../core/random.js';

export const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length);

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** 2.5th and 97.5th percentiles of the mean of `values`, over `rounds` resamples drawn with `seed`. */
export function bootstrapMeanCi(values: readonly number[], opts: { rounds?: number; seed?: number } = {}): [number, number] {
  const n = values.length;
  if (n === 0) return [0, 0];
  const rand = seededRandom(opts.seed ?? 1);
  const means = Array.from({ length: opts.rounds ?? 2000 }, () => {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rand() * n)];
    return s / n;
  }).sort((a, b) => a - b);
  return [percentile(means, 0.025), percentile(means, 0.975)];
}

/** The bootstrap interval of mean(b - a), problem by problem. */
export function pairedBootstrapCi(
  a: readonly number[],
  b: readonly number[],
  opts: { rounds?: number; seed?: number } = {},
): [number, number] {
  return bootstrapMeanCi(
    a.map((x, i) => b[i] - x),
    opts,
  );
}
