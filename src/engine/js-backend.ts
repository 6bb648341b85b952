/** The pure-TS backend: the reference kernels, run on the calling thread. */
import { cosineCandidatesReference } from '../simd/reference/cosine.js';
import { hammingTopKReference } from '../simd/reference/hamming.js';
import { majorityReference } from '../simd/reference/majority.js';
import { medianReference, trimmedMeanReference } from '../simd/reference/median.js';
import { dequantizeReference, packReference } from '../simd/reference/pack.js';
import type { Backend } from './backend.js';

export function jsBackend(): Backend {
  return {
    info: { backend: 'js', isa: 'js', vpopcntdq: false, threads: 1 },
    quantize: async (x, s, baseline) => packReference(x, s, baseline),
    dequantize: async (codes, scales, s, baseline) => dequantizeReference(codes, scales, s, baseline),
    hammingTopK: async (base, queries, dim, k) => hammingTopKReference(base, queries, dim, k),
    median: async (rows, n) => medianReference(rows, n),
    trimmedMean: async (rows, n, trim) => trimmedMeanReference(rows, n, trim),
    majority: async (codes, n, dim) => majorityReference(codes, n, dim),
    cosineCandidates: async (vectors, rows, queries, dim) => cosineCandidatesReference(vectors, rows, queries, dim),
  };
}
