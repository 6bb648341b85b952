/**
 * The default embedder: signed feature hashing (Weinberger et al.) of word
 * unigrams, word bigrams and character trigrams, L2-normalised. Offline,
 * deterministic across machines and versions of Node (pure integer hashing),
 * and a few microseconds per sentence, which is what lets a node ingest tens
 * of thousands of experiences a second. Similarity is lexical: it finds
 * experiences that share words and word pieces with the query, not synonyms;
 * TransformersEmbedder is the semantic alternative.
 *
 * A change to any constant here changes the embedding space: bump VERSION so
 * libraries built with the old space refuse to open instead of mis-ranking.
 */
import { isArray, wholeNumber } from '../../core/checks.js';
import { DsoError } from '../../core/errors.js';
import { normalizeRows } from '../vectors.js';
import type { Embedder } from './embedder.js';

const VERSION = 1;
/**
 * Each feature lands on SPREAD dimensions with independent signs (a sparse
 * Johnson-Lindenstrauss sketch) rather than one: inner products are kept in
 * expectation, and the vector is dense, so its sign bits separate texts the
 * way SimHash does. With one dimension per feature most coordinates of a
 * sentence are exactly zero and its 1-bit code says little.
 */
const SPREAD = 6;
const UNIGRAM = 1.0;
const BIGRAM = 0.5;
const TRIGRAM = 0.25;
const BOUNDARY = 0x02;

/** murmur3's finaliser; int32 in and out, so V8 keeps it in small integers. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function hashWord(s: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix(h);
}

const WORD = /[\p{L}\p{N}]+/gu;

export interface HashingEmbedderOptions {
  /** Dimensions of the hashed space (default 384, the size of MiniLM embeddings). */
  /** At most 65,536 (positions come from 16 hash bits). */
  dim?: number;
}

export class HashingEmbedder implements Embedder {
  readonly dim: number;
  readonly id: string;
  // No minSimilarity: hashing is lexical, and a lesson relevant to a short problem ("What is 65% of 640?" and
  // "When a problem asks for a percent of a number, ...") can share no words with it and score near 0 or below.

  constructor(opts: HashingEmbedderOptions = {}) {
    this.dim = wholeNumber(opts.dim ?? 384, 'dim', 'INVALID_DIM', 8, 1 << 16);
    this.id = `hashing-v${VERSION}-${this.dim}`;
  }

  async embed(texts: readonly string[]): Promise<Float32Array> {
    return this.embedSync(texts);
  }

  embedSync(texts: readonly string[]): Float32Array {
    if (!isArray(texts)) throw new DsoError('INVALID_ARGUMENT', 'embed() takes an array of strings');
    const out = new Float32Array(texts.length * this.dim);
    for (let i = 0; i < texts.length; i++) {
      const t = texts[i];
      if (typeof t !== 'string') throw new DsoError('INVALID_ARGUMENT', `texts[${i}] must be a string, got ${typeof t}`);
      this.accumulate(t, out, i * this.dim);
    }
    return normalizeRows(out, this.dim);
  }

  private accumulate(text: string, out: Float32Array, o: number): void {
    const dim = this.dim;
    let prev = 0;
    let first = true;
    WORD.lastIndex = 0;
    const lower = text.toLowerCase();
    for (let m = WORD.exec(lower); m !== null; m = WORD.exec(lower)) {
      const w = m[0];
      const hw = hashWord(w, 0x1);
      spread(out, o, dim, hw, UNIGRAM);
      if (!first) spread(out, o, dim, mix(Math.imul(prev, 31) + hw + 0x2), BIGRAM);
      first = false;
      prev = hw;
      // Trigrams of the word between boundary marks, so short words and word ends count.
      let a = BOUNDARY;
      let b = w.charCodeAt(0);
      for (let i = 1; i <= w.length; i++) {
        const c = i < w.length ? w.charCodeAt(i) : BOUNDARY;
        spread(out, o, dim, mix(Math.imul(Math.imul(a, 0x9e3779b1) ^ b, 0x85ebca6b) ^ Math.imul(c, 0xc2b2ae35) ^ 0x3), TRIGRAM);
        a = b;
        b = c;
      }
    }
  }
}

/** Adds ±w at SPREAD hashed positions of the row at `o`. */
function spread(out: Float32Array, o: number, dim: number, h: number, w: number): void {
  for (let s = 1; s <= SPREAD; s++) {
    const g = mix(h + Math.imul(s, 0x9e3779b9));
    // Index from the low 16 bits by multiply-shift (no modulo), sign from the top bit.
    out[o + (((g & 0xffff) * dim) >>> 16)] += g < 0 ? w : -w;
  }
}
