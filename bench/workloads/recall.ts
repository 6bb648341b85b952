/**
 * Recall@10 of 1-bit search against exact float cosine search, with and
 * without rescoring. No embedding model can be loaded offline here, so the
 * set is synthetic and says so: Gaussian clusters in 384 dims (centres
 * N(0, 1), members centre + N(0, 0.8^2) per dim), queries drawn the same way.
 */
import { BinaryIndex, createEngine } from '../../src/index.js';
import { xorshift } from '../lib/data.js';
import type { Row } from '../lib/report.js';

function gaussianFill(out: Float32Array, next: () => number, offset = 0, scale = 1, centre?: Float32Array) {
  for (let i = 0; i < out.length; i += 2) {
    const u = (next() + 1) / 4294967297;
    const v = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u)) * scale;
    out[i] = r * Math.cos(2 * Math.PI * v) + (centre ? centre[(offset + i) % centre.length] : 0);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v) + (centre ? centre[(offset + i + 1) % centre.length] : 0);
  }
}

function clustered(rows: number, dim: number, centres: Float32Array, clusters: number, seed: number): Float32Array {
  const next = xorshift(seed);
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const c = next() % clusters;
    gaussianFill(out.subarray(r * dim, (r + 1) * dim), next, 0, 0.8, centres.subarray(c * dim, (c + 1) * dim));
  }
  return out;
}

function exactCosineTop(base: Float32Array, queries: Float32Array, dim: number, k: number): number[][] {
  const n = base.length / dim;
  const norms = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += base[r * dim + j] ** 2;
    norms[r] = Math.sqrt(s);
  }
  const out: number[][] = [];
  for (let q = 0; q < queries.length / dim; q++) {
    const scores = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      let d = 0;
      for (let j = 0; j < dim; j++) d += queries[q * dim + j] * base[r * dim + j];
      scores[r] = d / norms[r];
    }
    out.push(
      Array.from(scores.keys())
        .sort((a, b) => scores[b] - scores[a])
        .slice(0, k),
    );
  }
  return out;
}

export async function recallWorkload(S: { n: number; queries: number; clusters: number }): Promise<Row[]> {
  const dim = 384;
  const k = 10;
  const centres = new Float32Array(S.clusters * dim);
  gaussianFill(centres, xorshift(31));
  const base = clustered(S.n, dim, centres, S.clusters, 32);
  const qv = clustered(S.queries, dim, centres, S.clusters, 33);
  const truth = exactCosineTop(base, qv, dim, k);
  const engine = await createEngine({ backend: 'native' });
  const { codes } = await engine.quantize(base, { dim });
  const qc = (await engine.quantize(qv, { dim })).codes;
  const signs = new BinaryIndex({ dim, threads: 1, engine });
  signs.add(codes);
  const floatsKept = new BinaryIndex({ dim, threads: 1, engine });
  floatsKept.add(codes, undefined, { vectors: base });
  const recall = (labels: BigInt64Array) => {
    let hit = 0;
    truth.forEach((t, q) => {
      const got = new Set(Array.from(labels.subarray(q * k, q * k + k), Number));
      for (const id of t) if (got.has(id)) hit++;
    });
    return hit / (truth.length * k);
  };
  const size = `${S.n} x ${dim}, ${S.clusters} clusters, ${S.queries} queries`;
  const row = (impl: string, r: number): Row => ({
    workload: 'W4 recall@10',
    impl,
    size,
    seconds: NaN,
    throughput: r,
    unit: 'recall',
    note: 'synthetic clustered set (no model offline)',
  });
  const rows = [
    row('1-bit Hamming top-10', recall((await signs.search(qc, { k })).labels)),
    row('1-bit top-100, rescored by signs', recall((await signs.search(qc, { k, rescore: { vectors: qv, candidates: 100 } })).labels)),
    row(
      '1-bit top-100, rescored by floats',
      recall((await floatsKept.search(qc, { k, rescore: { vectors: qv, candidates: 100 } })).labels),
    ),
  ];
  await engine.close();
  return rows;
}
