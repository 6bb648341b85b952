/**
 * Peers from npm. SimSIMD exposes one Hamming distance per call, so a scan is
 * a JS loop over rows. USearch's JS exactSearch rejects binary queries, so it
 * runs as its HNSW index with b1 quantization (approximate: recall reported).
 */
import * as simsimd from 'simsimd';
import { Index, MetricKind, ScalarKind } from 'usearch';

export function simsimdTopK(rows: Uint8Array[], query: Uint8Array, k: number): Int32Array {
  const best = new Int32Array(k).fill(-1);
  const bestD = new Float64Array(k).fill(Infinity);
  for (let r = 0; r < rows.length; r++) {
    const d = simsimd.hamming(rows[r], query);
    if (d < bestD[k - 1]) {
      let i = k - 1;
      while (i > 0 && bestD[i - 1] > d) {
        bestD[i] = bestD[i - 1];
        best[i] = best[i - 1];
        i--;
      }
      bestD[i] = d;
      best[i] = r;
    }
  }
  return best;
}

export function unpackBits(codes: Uint8Array): Uint8Array {
  const out = new Uint8Array(codes.length * 8);
  for (let i = 0; i < out.length; i++) out[i] = (codes[i >> 3] >> (i & 7)) & 1;
  return out;
}

export function usearchIndex(codes: Uint8Array, dim: number): { index: Index; buildSeconds: number } {
  const n = codes.length / Math.ceil(dim / 8);
  const index = new Index(dim, MetricKind.Hamming, ScalarKind.B1, 16);
  const keys = new BigUint64Array(n);
  for (let i = 0; i < n; i++) keys[i] = BigInt(i);
  const t = performance.now();
  index.add(keys, unpackBits(codes));
  return { index, buildSeconds: (performance.now() - t) / 1000 };
}
