/**
 * Majority of sign codes and median of scales, taken twice: rows whose code
 * differs from the first majority in more than `outlierFraction` of the bits
 * are dropped and both are taken again over the rest (when any remain). With
 * honest rows that agree on most bits, a colluding minority is far from the
 * majority and drops out, so it can neither flip bits nor tip close ones.
 */
import { bytesPerRow } from '../core/checks.js';
import type { Engine } from '../engine/types.js';
import { codeDistance } from '../simd/reference/hamming.js';

export async function robustMajority(
  engine: Engine,
  codes: Uint8Array,
  scales: Float32Array,
  n: number,
  dim: number,
  groups: number,
  outlierFraction: number,
): Promise<{ code: Uint8Array; scales: Float32Array; outliers: number[] }> {
  const bpr = bytesPerRow(dim);
  const first = await engine.majority(codes, { n, dim });
  const outliers: number[] = [];
  for (let i = 0; i < n; i++) {
    if (codeDistance(codes.subarray(i * bpr, (i + 1) * bpr), first) > outlierFraction * dim) outliers.push(i);
  }
  if (outliers.length === 0 || outliers.length === n) return { code: first, scales: await engine.median(scales, { n }), outliers: [] };
  const keep = n - outliers.length;
  const kc = new Uint8Array(keep * bpr);
  const ks = new Float32Array(keep * groups);
  const out = new Set(outliers);
  for (let i = 0, k = 0; i < n; i++) {
    if (out.has(i)) continue;
    kc.set(codes.subarray(i * bpr, (i + 1) * bpr), k * bpr);
    ks.set(scales.subarray(i * groups, (i + 1) * groups), k * groups);
    k++;
  }
  return { code: await engine.majority(kc, { n: keep, dim }), scales: await engine.median(ks, { n: keep }), outliers };
}
