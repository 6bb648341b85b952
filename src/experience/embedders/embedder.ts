/** What the library needs from an embedding model. */
export interface Embedder {
  /**
   * Names the embedding space (model and version). A library stores it and
   * refuses to open with an embedder of another id: vectors from two spaces
   * cannot be compared.
   */
  readonly id: string;
  readonly dim: number;
  /** texts.length rows of dim floats, each L2-normalised (a text with no features gives a zero row). */
  embed(texts: readonly string[]): Promise<Float32Array>;
  close?(): Promise<void>;
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
