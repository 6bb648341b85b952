/** Pure-TS cosine of each query against its candidate rows of a float matrix; row -1 gives NaN. */
export function cosineCandidatesReference(vectors: Float32Array, rows: Int32Array, queries: Float32Array, dim: number): Float32Array {
  const nq = queries.length / dim;
  const c = nq ? rows.length / nq : 0;
  const out = new Float32Array(rows.length);
  for (let q = 0; q < nq; q++) {
    let qn = 0;
    for (let j = 0; j < dim; j++) qn += queries[q * dim + j] ** 2;
    qn = Math.sqrt(qn) || 1;
    for (let i = 0; i < c; i++) {
      const row = rows[q * c + i];
      if (row < 0) {
        out[q * c + i] = Number.NaN;
        continue;
      }
      let dot = 0;
      let norm = 0;
      for (let j = 0; j < dim; j++) {
        const v = vectors[row * dim + j];
        dot += queries[q * dim + j] * v;
        norm += v * v;
      }
      out[q * c + i] = dot / (qn * (Math.sqrt(norm) || 1));
    }
  }
  return out;
}
