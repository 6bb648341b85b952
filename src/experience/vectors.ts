/** Small float-vector helpers shared by the embedders, the library and eviction. */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Scales each dim-wide row of `m` to unit length in place; zero rows stay zero. */
export function normalizeRows(m: Float32Array, dim: number): Float32Array {
  for (let o = 0; o < m.length; o += dim) {
    let ss = 0;
    for (let j = 0; j < dim; j++) ss += m[o + j] * m[o + j];
    if (ss === 0) continue;
    const inv = 1 / Math.sqrt(ss);
    for (let j = 0; j < dim; j++) m[o + j] *= inv;
  }
  return m;
}
