/**
 * What a compressed experience is, shared by the quantizer that makes it and
 * the wire encoding that carries it.
 */

/**
 * Longest experience text, in UTF-8 bytes. The word limit alone let a single
 * 20 MiB "word" through; 32 words of ordinary prose take about 250 bytes, and
 * scripts written without spaces about 3 bytes a character.
 */
export const MAX_TEXT_BYTES = 1024;
/** Longest domain name, in UTF-8 bytes. */
export const MAX_DOMAIN_BYTES = 512;
export interface BitDeltaCode {
  /** ceil(dim/8) bytes per vector, DESIGN.md bit order. */
  code: Uint8Array;
  /** ceil(dim/groupSize) scales per vector. */
  scales: Float32Array;
}

/** What compressForNetwork needs of an experience (ExperienceLibrary's experiences have it). */
export interface CompressibleExperience {
  id: string;
  text: string;
  embedding: Float32Array;
  /** The embedding's signs and mean |value| where already computed (a library stores them): sent as they are. */
  code?: Uint8Array;
  scale?: number;
  confidence: number;
  domain: string;
  epoch: number;
  source: string;
  createdAt: number;
}

/** An experience as it travels: text and metadata, the embedding as signs and scales. */
export interface CompressedExperience extends BitDeltaCode {
  id: string;
  text: string;
  dim: number;
  groupSize: number;
  confidence: number;
  domain: string;
  epoch: number;
  source: string;
  createdAt: number;
}
