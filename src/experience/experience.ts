/**
 * One learned experience: a "When ..., ..." sentence, its embedding and its
 * 1-bit code. Objects a library hands out are its own: do not change them.
 * The library itself updates usageCount and lastUsedEpoch in place as the
 * experience is retrieved; every other change makes a new object.
 */
export interface Experience {
  /** Content id (CIDv1, dag-cbor, sha256) of { v, domain, text }: see content-id.ts. */
  readonly id: string;
  readonly text: string;
  /** L2-normalised embedding (the library's embedder, 384 floats by default). */
  readonly embedding: Float32Array;
  /** The embedding's signs, packed (ceil(dim/8) bytes, DESIGN.md bit order). */
  readonly code: Uint8Array;
  /** Mean |embedding|: with the code, the BitDelta reconstruction. */
  readonly scale: number;
  /** 0..1 */
  readonly confidence: number;
  readonly domain: string;
  /** The library epoch the experience was created in. */
  readonly epoch: number;
  readonly usageCount: number;
  /** Epoch of the last retrieval that returned it; -1 if never retrieved. */
  readonly lastUsedEpoch: number;
  /** Node id of the node that produced it. */
  readonly source: string;
  /** Milliseconds since the Unix epoch. */
  readonly createdAt: number;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface RetrievedExperience {
  experience: Experience;
  /** Cosine similarity of the experience's embedding to the query's. */
  similarity: number;
}
