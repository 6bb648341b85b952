/** What the library needs from an embedding model. */
export interface Embedder {
  /**
   * Names the embedding space (model and version). A library stores it and
   * refuses to open with an embedder of another id: vectors from two spaces
   * cannot be compared.
   */
  readonly id: string;
  readonly dim: number;
  /**
   * The cosine below which this embedder's neighbours carry no signal: the
   * floor retrieval applies unless told otherwise (`dso library search`, a
   * node's /retrieve). Absent: no floor.
   */
  readonly minSimilarity?: number;
  /** texts.length rows of dim floats, each L2-normalised (a text with no features gives a zero row). */
  embed(texts: readonly string[]): Promise<Float32Array>;
  close?(): Promise<void>;
}
