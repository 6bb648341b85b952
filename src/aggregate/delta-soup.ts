/**
 * DeltaSoup: combining the compressed deltas (BitDelta: signs + scales per
 * layer) that a community of nodes sends. Byzantine-robust (the default):
 * per layer the bitwise majority of the signs (ties to 1) and the median of
 * the scales, so fewer than half of the nodes cannot move a bit or pull a
 * scale past the honest range. Otherwise the mean of the signs (as +-1) and
 * the mean of the scales, which any one node can skew. Both run on the
 * engine's kernels.
 */
import { bytesPerRow, isArray } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { withEngine } from '../engine/lazy-engine.js';
import type { Engine } from '../engine/types.js';
import { robustMajority } from './robust-majority.js';

export interface LayerDelta {
  /** Packed signs, ceil(dim/8) bytes. */
  code: Uint8Array;
  /** One scale per group of groupSize dims. */
  scales: Float32Array;
  dim: number;
  groupSize?: number;
}

/** One node's delta: a layer name -> its compressed delta. */
export type CommunityDelta = Readonly<Record<string, LayerDelta>>;

export interface AggregatedLayer {
  /** Majority signs (robust) or the signs of the mean (ties to 1). */
  code: Uint8Array;
  /** Median (robust) or mean scales. */
  scales: Float32Array;
  dim: number;
  groupSize: number;
  /** Mean of the signs as +-1 per dimension (only without byzantineRobust). */
  signMean?: Float32Array;
  /** Indices of the deltas left out as outliers (robust path). */
  outliers?: number[];
}

export async function aggregateCommunityDeltas(
  communityDeltas: readonly CommunityDelta[],
  opts: { byzantineRobust?: boolean; outlierFraction?: number; engine?: Engine } = {},
): Promise<Record<string, AggregatedLayer>> {
  if (!isArray(communityDeltas) || communityDeltas.length === 0)
    throw new DsoError('INVALID_COUNT', 'aggregateCommunityDeltas needs at least one delta');
  const robust = opts.byzantineRobust ?? true;
  const layers = Object.keys(communityDeltas[0]).sort();
  communityDeltas.forEach((d, i) => {
    const names = Object.keys(d ?? {}).sort();
    if (names.join('\0') !== layers.join('\0'))
      throw new DsoError('LENGTH_MISMATCH', `delta ${i} has layers [${names.join(',')}], delta 0 has [${layers.join(',')}]`);
  });
  return withEngine(opts.engine, async (engine) => {
    const out: Record<string, AggregatedLayer> = {};
    for (const name of layers) {
      const first = communityDeltas[0][name];
      const dim = first.dim;
      const groupSize = first.groupSize ?? dim;
      const bpr = bytesPerRow(dim);
      const groups = Math.ceil(dim / groupSize);
      const n = communityDeltas.length;
      const codes = new Uint8Array(n * bpr);
      const scales = new Float32Array(n * groups);
      communityDeltas.forEach((d, i) => {
        const l = d[name];
        if (l.dim !== dim || (l.groupSize ?? l.dim) !== groupSize)
          throw new DsoError(
            'DIM_MISMATCH',
            `layer ${name} of delta ${i}: dim ${l.dim}/groupSize ${l.groupSize ?? l.dim}, delta 0 has ${dim}/${groupSize}`,
          );
        if (!(l.code instanceof Uint8Array) || l.code.length !== bpr)
          throw new DsoError('LENGTH_MISMATCH', `layer ${name} of delta ${i}: code must hold ${bpr} bytes`);
        if (!(l.scales instanceof Float32Array) || l.scales.length !== groups)
          throw new DsoError('LENGTH_MISMATCH', `layer ${name} of delta ${i}: ${groups} scales expected`);
        codes.set(l.code, i * bpr);
        scales.set(l.scales, i * groups);
      });
      if (robust) {
        const r = await robustMajority(engine, codes, scales, n, dim, groups, opts.outlierFraction ?? 0.35);
        out[name] = { code: r.code, scales: r.scales, dim, groupSize, outliers: r.outliers };
        continue;
      }
      const signMean = new Float32Array(dim);
      for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) signMean[j] += (codes[i * bpr + (j >> 3)] >> (j & 7)) & 1 ? 1 : -1;
      const code = new Uint8Array(bpr);
      for (let j = 0; j < dim; j++) {
        signMean[j] /= n;
        if (signMean[j] >= 0) code[j >> 3] |= 1 << (j & 7);
      }
      const meanScales = new Float32Array(groups);
      for (let i = 0; i < n; i++) for (let g = 0; g < groups; g++) meanScales[g] += scales[i * groups + g] / n;
      out[name] = { code, scales: meanScales, dim, groupSize, signMean };
    }
    return out;
  });
}
