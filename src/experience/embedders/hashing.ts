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
import { DsoError } from '../../errors.js';
import { wholeNumber } from '../../simd/checks.js';
import { type Embedder, normalizeRows } from './embedder.js';

const VERSION = 1;
const UNIGRAM = 1.0;
const BIGRAM = 0.5;
const TRIGRAM = 0.25;
const BOUNDARY = 0x02;

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashWord(s: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix(h);
}

const WORD = /[\p{L}\p{N}]+/gu;

export interface HashingEmbedderOptions {
  /** Dimensions of the hashed space (default 384, the size of MiniLM embeddings). */
  dim?: number;
}

export class HashingEmbedder implements Embedder {
  readonly dim: number;
  readonly id: string;

  constructor(opts: HashingEmbedderOptions = {}) {
    this.dim = wholeNumber(opts.dim ?? 384, 'dim', 'INVALID_DIM', 8, 1 << 16);
    this.id = `hashing-v${VERSION}-${this.dim}`;
  }

  async embed(texts: readonly string[]): Promise<Float32Array> {
    return this.embedSync(texts);
  }

  embedSync(texts: readonly string[]): Float32Array {
    if (!Array.isArray(texts)) throw new DsoError('INVALID_ARGUMENT', 'embed() takes an array of strings');
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
    const add = (h: number, w: number) => {
      // The index and the sign come from independent bits of the hash.
      out[o + (h % dim)] += (mix(h ^ 0x9e3779b9) & 1) === 0 ? w : -w;
    };
    let prev = -1;
    for (const m of text.toLowerCase().matchAll(WORD)) {
      const w = m[0];
      const hw = hashWord(w, 0x1);
      add(hw, UNIGRAM);
      if (prev >= 0) add(mix(Math.imul(prev, 31) + hw + 0x2), BIGRAM);
      prev = hw;
      // Trigrams of the word between boundary marks, so short words and word ends count.
      let a = BOUNDARY;
      let b = w.charCodeAt(0);
      for (let i = 1; i <= w.length; i++) {
        const c = i < w.length ? w.charCodeAt(i) : BOUNDARY;
        add(mix(Math.imul(Math.imul(a, 0x9e3779b1) ^ b, 0x85ebca6b) ^ Math.imul(c, 0xc2b2ae35) ^ 0x3), TRIGRAM);
        a = b;
        b = c;
      }
    }
  }
}
