/**
 * BinaryIndex: exact top-k Hamming search over packed 1-bit codes with
 * BigInt64 labels, with optional float rescoring and a checksummed file
 * format (src/binary-index/format.ts). Every search runs through the index's
 * engine, which shards large ones across its worker threads.
 *
 * Rows are kept in ascending label order, so the kernels' tie-break by the
 * smaller row is the tie-break by the smaller label. Appending larger labels
 * (the default, insertion order) keeps the order; other adds mark the index
 * for a re-sort before its next search. Storage lives in SharedArrayBuffers
 * that searches capture at their start: later adds write past the captured
 * row count, and re-sorts and compactions build new buffers (copy on write),
 * so a running search sees the rows present when it started. On an engine
 * that keeps codes on a GPU the rows stay resident there (resident-rows.ts).
 */
import { bytes, bytesPerRow, checkResults, floats, wholeNumber } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { createEngine } from '../engine/create-engine.js';
import { LazyEngine } from '../engine/lazy-engine.js';
import type { Engine } from '../engine/types.js';
import { mapIndexFile, readIndexFile, writeIndexFile } from './format.js';
import { strictlyIncreasing } from './labels.js';
import { ResidentRows } from './resident-rows.js';

export interface BinaryIndexOptions {
  dim: number;
  /** Worker threads of the engine the index creates, for sharded search; default: the core count. */
  threads?: number;
  /** Searches over fewer rows than this run in one call, unsharded (the created engine's `shardRows`). */
  shardThreshold?: number;
  /** The engine to search with (its owner closes it); `threads` and `shardThreshold` are then the engine's own. */
  engine?: Engine;
  /** The baseline the codes were packed against (dim floats), kept and saved with the index. */
  baseline?: Float32Array;
}

export interface AddOptions {
  /** One scale per row (mean |x|), used to dequantize codes for rescoring. */
  scales?: Float32Array;
  /** The float vectors, dim per row, kept for exact rescoring. */
  vectors?: Float32Array;
}

export interface SearchOptions {
  k: number;
  rescore?: { vectors: Float32Array; candidates?: number };
}

export interface SearchResult {
  labels: BigInt64Array;
  distances: Int32Array;
  /** Cosine similarity of each result, when rescored. */
  scores?: Float32Array;
}

interface Snapshot {
  codes: SharedArrayBuffer;
  /** Byte offset of row 0 in `codes` (non-zero for a mapped file). */
  offset: number;
  labels: BigInt64Array;
  scales?: Float32Array;
  vectors?: Float32Array;
  n: number;
  removed: Set<number>;
  /** The row order's generation: a re-sort or compaction starts a new one. */
  layout: number;
}

const GROWTH = 1.5;

function minOf(a: BigInt64Array): bigint {
  let m = a[0];
  for (const v of a) if (v < m) m = v;
  return m;
}

function maxOf(a: BigInt64Array): bigint {
  let m = a[0];
  for (const v of a) if (v > m) m = v;
  return m;
}

/** A label that occurs twice, if any; a strictly increasing batch is checked without copying. */
function duplicateIn(a: BigInt64Array): bigint | undefined {
  if (strictlyIncreasing(a)) return undefined;
  const s = a.slice().sort();
  for (let i = 1; i < s.length; i++) if (s[i] === s[i - 1]) return s[i];
  return undefined;
}

export class BinaryIndex {
  readonly dim: number;
  readonly bytesPerRow: number;
  readonly baseline?: Float32Array;
  private readonly engine: LazyEngine;

  private codes: SharedArrayBuffer;
  private codesOffset = 0;
  /** Whether `codes` is a mapped file's pages (until the first copy into memory). */
  private mapped = false;
  private labelsArr: BigInt64Array;
  private scalesArr?: Float32Array;
  private vectorsArr?: Float32Array;
  private capacity = 0;
  private n = 0;
  private removed = new Set<number>();
  private sorted = true;
  private layout = 0;
  private readonly resident = new ResidentRows();
  private nextLabel = 0n;
  private maxLabel = -(2n ** 63n);

  constructor(opts: BinaryIndexOptions) {
    if (opts === null || typeof opts !== 'object') throw new DsoError('INVALID_ARGUMENT', 'BinaryIndex needs { dim }');
    this.dim = wholeNumber(opts.dim, 'dim', 'INVALID_DIM', 1);
    this.bytesPerRow = bytesPerRow(this.dim);
    if (opts.engine !== undefined && (opts.threads !== undefined || opts.shardThreshold !== undefined)) {
      throw new DsoError(
        'INVALID_ARGUMENT',
        'threads and shardThreshold configure the engine the index creates; set them on createEngine for an engine you pass',
      );
    }
    const { threads, shardThreshold } = opts;
    this.engine = new LazyEngine(opts.engine, () => createEngine({ threads, shardRows: shardThreshold }));
    if (opts.baseline !== undefined) {
      this.baseline = floats(opts.baseline, 'baseline');
      if (this.baseline.length !== this.dim) {
        throw new DsoError('LENGTH_MISMATCH', `baseline must hold dim = ${this.dim} values, got ${this.baseline.length}`);
      }
    }
    this.codes = new SharedArrayBuffer(0);
    this.labelsArr = new BigInt64Array(new SharedArrayBuffer(0));
  }

  /** Live rows (added and not removed). */
  get size(): number {
    return this.n - this.removed.size;
  }

  /** Bytes held; a mapped index's codes are file-backed pages, counted under `mapped`, not `codes`. */
  memoryUsage(): { codes: number; labels: number; scales: number; vectors: number; mapped: number; total: number } {
    if (this.mapped) {
      const mapped = this.codes.byteLength;
      return { codes: 0, labels: 0, scales: 0, vectors: 0, mapped, total: this.removed.size * 16 };
    }
    const m = {
      mapped: 0,
      codes: this.codes.byteLength,
      labels: this.labelsArr.byteLength,
      scales: this.scalesArr?.byteLength ?? 0,
      vectors: this.vectorsArr?.byteLength ?? 0,
    };
    return { ...m, total: m.codes + m.labels + m.scales + m.vectors + this.removed.size * 16 };
  }

  /**
   * Appends rows. labels default to insertion order continuing after the
   * largest default label given so far. A label already present, or a
   * scales/vectors array given for some adds but not others, is an error and
   * adds nothing.
   */
  add(codesIn: Uint8Array, labelsIn?: BigInt64Array, opts: AddOptions = {}): void {
    const codes = bytes(codesIn, 'codes');
    if (codes.length % this.bytesPerRow !== 0) {
      throw new DsoError('LENGTH_MISMATCH', `codes.length (${codes.length}) is not a multiple of ceil(dim/8) = ${this.bytesPerRow}`);
    }
    const m = codes.length / this.bytesPerRow;
    let labels: BigInt64Array;
    if (labelsIn === undefined) {
      labels = new BigInt64Array(m);
      for (let i = 0; i < m; i++) labels[i] = this.nextLabel + BigInt(i);
    } else {
      if (!(labelsIn instanceof BigInt64Array)) throw new DsoError('INVALID_ARGUMENT', 'labels must be a BigInt64Array');
      if (labelsIn.length !== m)
        throw new DsoError('LENGTH_MISMATCH', `labels.length (${labelsIn.length}) must equal the ${m} rows of codes`);
      labels = labelsIn;
    }
    const dup = duplicateIn(labels);
    if (dup !== undefined) throw new DsoError('DUPLICATE_LABEL', `label ${dup} appears twice in this add`);
    // Labels above every present one (the usual case) cannot collide.
    if (this.n > 0 && m > 0 && minOf(labels) <= this.maxLabel) {
      for (const l of labels) if (this.findRow(l) >= 0) throw new DsoError('DUPLICATE_LABEL', `label ${l} is already in the index`);
    }
    // A label removed earlier is still a row until compaction: compact before it comes back.
    if (this.removed.size > 0 && labels.some((l) => this.findRow(l, true) >= 0)) this.rebuild();
    const scales = this.optionalRows(opts.scales, m, 1, 'scales', this.scalesArr);
    const vectors = this.optionalRows(opts.vectors, m, this.dim, 'vectors', this.vectorsArr);

    this.reserve(this.n + m, scales !== undefined, vectors !== undefined);
    new Uint8Array(this.codes, this.codesOffset + this.n * this.bytesPerRow, codes.length).set(codes);
    this.labelsArr.set(labels, this.n);
    if (scales) this.scalesArr!.set(scales, this.n);
    if (vectors) this.vectorsArr!.set(vectors, this.n * this.dim);
    if (m > 0) {
      const increasing = strictlyIncreasing(labels);
      if (!increasing || labels[0] <= this.maxLabel) this.sorted = false;
      const top = increasing ? labels[m - 1] : maxOf(labels);
      if (top > this.maxLabel) this.maxLabel = top;
    }
    if (labelsIn === undefined) this.nextLabel += BigInt(m);
    else if (this.maxLabel >= this.nextLabel) this.nextLabel = this.maxLabel + 1n;
    this.n += m;
  }

  /** Removes rows by label; unknown labels are ignored. Returns how many were removed. */
  remove(labelsIn: BigInt64Array): number {
    if (!(labelsIn instanceof BigInt64Array)) throw new DsoError('INVALID_ARGUMENT', 'labels must be a BigInt64Array');
    let count = 0;
    const removed = new Set(this.removed);
    for (const l of labelsIn) {
      const row = this.findRow(l);
      if (row < 0 || removed.has(row)) continue;
      removed.add(row);
      count++;
    }
    // A new set, not a mutation: running searches hold the old one.
    this.removed = removed;
    if (this.removed.size > Math.max(1024, this.n / 4)) this.rebuild();
    return count;
  }

  async search(queriesIn: Uint8Array, opts: SearchOptions): Promise<SearchResult> {
    const queries = bytes(queriesIn, 'queries');
    if (opts === null || typeof opts !== 'object') throw new DsoError('INVALID_ARGUMENT', 'search options { k } are required');
    const k = wholeNumber(opts.k, 'k', 'INVALID_K', 1);
    if (queries.length % this.bytesPerRow !== 0) {
      throw new DsoError('LENGTH_MISMATCH', `queries.length (${queries.length}) is not a multiple of ceil(dim/8) = ${this.bytesPerRow}`);
    }
    const nq = queries.length / this.bytesPerRow;
    let candidates = k;
    let rescoreVectors: Float32Array | undefined;
    if (opts.rescore !== undefined) {
      rescoreVectors = floats(opts.rescore.vectors, 'rescore.vectors');
      if (rescoreVectors.length !== nq * this.dim) {
        throw new DsoError('LENGTH_MISMATCH', `rescore.vectors must hold ${nq} x ${this.dim} values, got ${rescoreVectors.length}`);
      }
      candidates = Math.max(k, wholeNumber(opts.rescore.candidates ?? 100, 'rescore.candidates', 'INVALID_K', 1));
    }
    checkResults(nq, candidates);
    if (!this.sorted) this.rebuild();
    const snap: Snapshot = {
      codes: this.codes,
      offset: this.codesOffset,
      labels: this.labelsArr,
      scales: this.scalesArr,
      vectors: this.vectorsArr,
      n: this.n,
      removed: this.removed,
      layout: this.layout,
    };
    // Fetching k + (removed rows) and dropping removed ones is exact.
    const fetch = Math.min(Math.max(1, snap.n), candidates + snap.removed.size);
    const rows = await this.rawSearch(snap, queries, fetch);
    const live = this.dropRemoved(rows, snap, nq, fetch, candidates);
    if (!rescoreVectors) return this.toLabels(live, snap, nq, k);
    return this.rescore(live, snap, rescoreVectors, nq, candidates, k);
  }

  /** Writes the live rows (docs/format.md); atomic: a crash mid-save leaves the previous file. */
  async save(file: string): Promise<void> {
    await writeIndexFile(file, { dim: this.dim, baseline: this.baseline, ...this.exportRows() });
  }

  /**
   * Reads an index saved by save(); a truncated or altered file is a
   * DsoError('CORRUPT_INDEX'). With mmap the file is mapped, not copied.
   */
  static async load(file: string, opts: Omit<BinaryIndexOptions, 'dim'> & { mmap?: boolean } = {}): Promise<BinaryIndex> {
    const { mmap, ...rest } = opts;
    if (mmap) return BinaryIndex.map(file, rest);
    const r = await readIndexFile(file);
    const index = new BinaryIndex({ ...rest, dim: r.dim, baseline: r.baseline });
    // The file's arrays are already SharedArrayBuffers in label order (checked): adopt them.
    index.adopt(r.codes.buffer as SharedArrayBuffer, 0, r.labels, r.scales, r.vectors);
    return index;
  }

  /** Takes rows stored in strictly increasing label order as they are, without copying. */
  private adopt(codes: SharedArrayBuffer, offset: number, labels: BigInt64Array, scales?: Float32Array, vectors?: Float32Array): void {
    this.codes = codes;
    this.codesOffset = offset;
    this.labelsArr = labels;
    this.scalesArr = scales;
    this.vectorsArr = vectors;
    this.n = this.capacity = labels.length;
    this.layout++;
    if (this.n > 0) this.maxLabel = labels[this.n - 1];
    this.nextLabel = this.n > 0 && this.maxLabel >= 0n ? this.maxLabel + 1n : 0n;
  }

  /**
   * Maps a saved index instead of reading it: codes, labels and vectors stay
   * views of the file's pages (copy-on-write; the file is never written).
   * The first add, removal compaction or re-sort copies into memory.
   */
  private static async map(file: string, opts: Omit<BinaryIndexOptions, 'dim'>): Promise<BinaryIndex> {
    const r = mapIndexFile(file);
    const index = new BinaryIndex({ ...opts, dim: r.dim, baseline: r.baseline });
    index.adopt(r.codes.buffer as SharedArrayBuffer, r.codes.byteOffset, r.labels, r.scales, r.vectors);
    index.mapped = true;
    return index;
  }

  /**
   * Closes the engine the index created (stopping its worker threads). A
   * mapped file's pages go when the last search holding them ends.
   */
  async close(): Promise<void> {
    this.resident.release();
    await this.engine.close();
  }

  // --- internals -----------------------------------------------------------

  private optionalRows(v: Float32Array | undefined, m: number, width: number, name: string, existing?: Float32Array) {
    if (v === undefined) {
      if (existing && this.n > 0) throw new DsoError('INVALID_ARGUMENT', `this index keeps ${name}; every add must pass them`);
      return undefined;
    }
    const f = floats(v, name);
    if (f.length !== m * width) throw new DsoError('LENGTH_MISMATCH', `${name} must hold ${m} x ${width} values, got ${f.length}`);
    if (!existing && this.n > 0) throw new DsoError('INVALID_ARGUMENT', `this index was built without ${name}`);
    return f;
  }

  private reserve(rows: number, scales: boolean, vectors: boolean): void {
    if (rows <= this.capacity && (!scales || this.scalesArr) && (!vectors || this.vectorsArr)) return;
    const cap = Math.max(rows, Math.ceil(this.capacity * GROWTH), 1024);
    const codes = new SharedArrayBuffer(cap * this.bytesPerRow);
    new Uint8Array(codes).set(new Uint8Array(this.codes, this.codesOffset, this.n * this.bytesPerRow));
    const labels = new BigInt64Array(new SharedArrayBuffer(cap * 8));
    labels.set(this.labelsArr.subarray(0, this.n));
    if (scales || this.scalesArr) {
      const s = new Float32Array(new SharedArrayBuffer(cap * 4));
      if (this.scalesArr) s.set(this.scalesArr.subarray(0, this.n));
      this.scalesArr = s;
    }
    if (vectors || this.vectorsArr) {
      const v = new Float32Array(new SharedArrayBuffer(cap * this.dim * 4));
      if (this.vectorsArr) v.set(this.vectorsArr.subarray(0, this.n * this.dim));
      this.vectorsArr = v;
    }
    this.codes = codes;
    this.codesOffset = 0;
    this.mapped = false;
    this.labelsArr = labels;
    this.capacity = cap;
  }

  /** The row holding `label` (binary search over the label-sorted rows), or -1; removed rows count only if asked. */
  private findRow(label: bigint, includeRemoved = false): number {
    if (!this.sorted) this.rebuild();
    const L = this.labelsArr;
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (L[mid] < label) lo = mid + 1;
      else if (L[mid] > label) hi = mid - 1;
      else return includeRemoved || !this.removed.has(mid) ? mid : -1;
    }
    return -1;
  }

  /** Sorts live rows by label and drops removed ones, into new buffers. */
  private rebuild(): void {
    const order: number[] = [];
    for (let r = 0; r < this.n; r++) if (!this.removed.has(r)) order.push(r);
    const L = this.labelsArr;
    order.sort((a, b) => (L[a] < L[b] ? -1 : L[a] > L[b] ? 1 : 0));
    const B = this.bytesPerRow;
    const cap = Math.max(order.length, 1024);
    const codes = new SharedArrayBuffer(cap * B);
    const src = new Uint8Array(this.codes, this.codesOffset);
    const dst = new Uint8Array(codes);
    const labels = new BigInt64Array(new SharedArrayBuffer(cap * 8));
    const scales = this.scalesArr ? new Float32Array(new SharedArrayBuffer(cap * 4)) : undefined;
    const vectors = this.vectorsArr ? new Float32Array(new SharedArrayBuffer(cap * this.dim * 4)) : undefined;
    order.forEach((r, i) => {
      dst.set(src.subarray(r * B, r * B + B), i * B);
      labels[i] = L[r];
      if (scales) scales[i] = this.scalesArr![r];
      if (vectors) vectors.set(this.vectorsArr!.subarray(r * this.dim, (r + 1) * this.dim), i * this.dim);
    });
    this.codes = codes;
    this.codesOffset = 0;
    this.mapped = false;
    this.labelsArr = labels;
    this.scalesArr = scales;
    this.vectorsArr = vectors;
    this.capacity = cap;
    this.n = order.length;
    this.removed = new Set();
    this.sorted = true;
    this.layout++;
  }

  private async rawSearch(snap: Snapshot, queries: Uint8Array, k: number): Promise<{ ids: Int32Array; distances: Int32Array }> {
    const nq = queries.length / this.bytesPerRow;
    if (snap.n === 0) return { ids: new Int32Array(nq * k).fill(-1), distances: new Int32Array(nq * k).fill(-1) };
    const base = new Uint8Array(snap.codes, snap.offset, snap.n * this.bytesPerRow);
    const engine = await this.engine.get();
    const onDevice = await this.resident.search(engine, base, snap.layout, queries, this.dim, k);
    return onDevice ?? engine.hammingTopK(base, queries, { dim: this.dim, k });
  }

  /** Keeps the first `keep` rows per query that are not removed, in order. */
  private dropRemoved(r: { ids: Int32Array; distances: Int32Array }, snap: Snapshot, nq: number, fetched: number, keep: number) {
    if (snap.removed.size === 0 && fetched === keep) return r;
    const ids = new Int32Array(nq * keep).fill(-1);
    const distances = new Int32Array(nq * keep).fill(-1);
    for (let q = 0; q < nq; q++) {
      let j = 0;
      for (let i = 0; i < fetched && j < keep; i++) {
        const row = r.ids[q * fetched + i];
        if (row < 0) break;
        if (snap.removed.has(row)) continue;
        ids[q * keep + j] = row;
        distances[q * keep + j] = r.distances[q * fetched + i];
        j++;
      }
    }
    return { ids, distances };
  }

  private toLabels(r: { ids: Int32Array; distances: Int32Array }, snap: Snapshot, nq: number, k: number): SearchResult {
    const labels = new BigInt64Array(nq * k).fill(-1n);
    const width = r.ids.length / Math.max(1, nq);
    const distances = new Int32Array(nq * k).fill(-1);
    for (let q = 0; q < nq; q++) {
      for (let j = 0; j < k; j++) {
        const row = r.ids[q * width + j];
        if (row < 0) break;
        labels[q * k + j] = snap.labels[row];
        distances[q * k + j] = r.distances[q * width + j];
      }
    }
    return { labels, distances };
  }

  /**
   * Second stage: the candidates ranked by cosine against the query's float
   * vector, using the stored vectors when the index keeps them (through the
   * engine's cosine kernel), else the codes dequantized as sign x scale, where
   * one scale per row cancels out of the cosine. Ties by the smaller label.
   */
  private async rescore(
    r: { ids: Int32Array; distances: Int32Array },
    snap: Snapshot,
    vq: Float32Array,
    nq: number,
    c: number,
    k: number,
  ): Promise<SearchResult> {
    const scores = snap.vectors
      ? await this.storedCosines(r.ids, snap.vectors.subarray(0, snap.n * this.dim), vq, nq, c)
      : this.signCosines(r.ids, snap, vq, nq, c);
    const labels = new BigInt64Array(nq * k).fill(-1n);
    const distances = new Int32Array(nq * k).fill(-1);
    const out = new Float32Array(nq * k).fill(Number.NaN);
    const order = new Int32Array(c);
    for (let q = 0; q < nq; q++) {
      let m = 0;
      while (m < c && r.ids[q * c + m] >= 0) order[m] = m++;
      const o = order.subarray(0, m);
      const s = (i: number) => scores[q * c + i];
      const label = (i: number) => snap.labels[r.ids[q * c + i]];
      o.sort((a, b) => s(b) - s(a) || (label(a) < label(b) ? -1 : 1));
      for (let j = 0; j < Math.min(k, m); j++) {
        labels[q * k + j] = label(o[j]);
        distances[q * k + j] = r.distances[q * c + o[j]];
        out[q * k + j] = s(o[j]);
      }
    }
    return { labels, distances, scores: out };
  }

  /** Cosines against stored vectors, the queries split over the index's threads (gathering rows is memory-bound). */
  private async storedCosines(rows: Int32Array, vectors: Float32Array, vq: Float32Array, nq: number, c: number): Promise<Float32Array> {
    const engine = await this.engine.get();
    const parts = Math.max(1, Math.min(engine.info.threads, nq));
    const per = Math.ceil(nq / parts);
    const out = new Float32Array(nq * c);
    await Promise.all(
      Array.from({ length: parts }, async (_, p) => {
        const q0 = p * per;
        const q1 = Math.min(nq, q0 + per);
        if (q0 >= q1) return;
        const part = await engine.cosineCandidates(vectors, rows.subarray(q0 * c, q1 * c), vq.subarray(q0 * this.dim, q1 * this.dim), {
          dim: this.dim,
        });
        out.set(part, q0 * c);
      }),
    );
    return out;
  }

  private signCosines(rows: Int32Array, snap: Snapshot, vq: Float32Array, nq: number, c: number): Float32Array {
    const codes = new Uint8Array(snap.codes, snap.offset);
    const dim = this.dim;
    const B = this.bytesPerRow;
    const out = new Float32Array(nq * c);
    for (let q = 0; q < nq; q++) {
      let qn = 0;
      for (let j = 0; j < dim; j++) qn += vq[q * dim + j] ** 2;
      const norm = (Math.sqrt(qn) || 1) * Math.sqrt(dim);
      for (let i = 0; i < c; i++) {
        const row = rows[q * c + i];
        if (row < 0) break;
        let dot = 0;
        for (let j = 0; j < dim; j++) dot += (codes[row * B + (j >> 3)] >> (j & 7)) & 1 ? vq[q * dim + j] : -vq[q * dim + j];
        out[q * c + i] = dot / norm;
      }
    }
    return out;
  }

  /** The live rows in label order, for saving. */
  private exportRows(): { codes: Uint8Array; labels: BigInt64Array; scales?: Float32Array; vectors?: Float32Array } {
    if (!this.sorted || this.removed.size > 0) this.rebuild();
    return {
      codes: new Uint8Array(this.codes, this.codesOffset, this.n * this.bytesPerRow),
      labels: this.labelsArr.subarray(0, this.n),
      scales: this.scalesArr?.subarray(0, this.n),
      vectors: this.vectorsArr?.subarray(0, this.n * this.dim),
    };
  }
}
