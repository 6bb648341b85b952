/**
 * BitDelta quantization of embeddings (Liu et al., 2024): the delta from a
 * baseline is stored as its signs, one bit per dimension, and one scale per
 * group of dimensions (the mean |delta|, the L2-optimal scale for a sign
 * code). Runs through the engine's pack/dequantize kernels.
 */
import { bytesPerRow, floats, wholeNumber } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { LazyEngine } from '../engine/lazy-engine.js';
import type { Engine, Quantized } from '../engine/types.js';
import type { BitDeltaCode, CompressedExperience, CompressibleExperience } from './record.js';
import { encodeCompressed } from './wire.js';

export interface BitDeltaOptions {
  /** Subtracted before taking signs; dim values (default: zero). */
  baseline?: Float32Array;
  /** Dimensions per scale (default: dim, one scale per vector). */
  groupSize?: number;
}

export interface CompressionReport {
  records: number;
  /** Mean bytes of one encoded record (text, metadata, signs, scales, framing). */
  recordBytes: number;
  /** The same record with the embedding sent as float32. */
  float32RecordBytes: number;
  /** Signs + scales per experience, and the float32 embedding they replace. */
  embeddingBytes: number;
  float32EmbeddingBytes: number;
  /** float32 / compressed, for the embedding alone and for the whole record. */
  embeddingRatio: number;
  recordRatio: number;
}

export class BitDeltaQuantizer {
  private readonly engine: LazyEngine;

  constructor(opts: { engine?: Engine } = {}) {
    this.engine = new LazyEngine(opts.engine);
  }

  /** Quantizes one vector, or rows of `dim` values when `dim` is given. */
  async quantizeDelta(vector: Float32Array, opts: BitDeltaOptions & { dim?: number } = {}): Promise<BitDeltaCode> {
    const v = floats(vector, 'vector');
    const dim = opts.dim ?? v.length;
    const q = await (await this.engine.get()).quantize(v, { dim, groupSize: opts.groupSize, baseline: opts.baseline });
    return { code: q.codes, scales: q.scales };
  }

  /** baseline + (bit ? +scale : -scale), per group. */
  async dequantize(c: BitDeltaCode, opts: BitDeltaOptions & { dim: number }): Promise<Float32Array> {
    if (c === null || typeof c !== 'object') throw new DsoError('INVALID_ARGUMENT', 'dequantize takes { code, scales }');
    return (await this.engine.get()).dequantize(
      { codes: c.code, scales: c.scales },
      { dim: opts.dim, groupSize: opts.groupSize, baseline: opts.baseline },
    );
  }

  /**
   * The experiences at or above `minConfidence` (default 0.7), compressed for
   * sharing. `source` is a list of experiences or anything with list() (an
   * ExperienceLibrary).
   */
  async compressForNetwork(
    source: Iterable<CompressibleExperience> | { list(): CompressibleExperience[] },
    opts: BitDeltaOptions & { minConfidence?: number } = {},
  ): Promise<CompressedExperience[]> {
    const all = 'list' in source && typeof source.list === 'function' ? source.list() : [...(source as Iterable<CompressibleExperience>)];
    const min = opts.minConfidence ?? 0.7;
    if (typeof min !== 'number' || Number.isNaN(min))
      throw new DsoError('INVALID_ARGUMENT', `minConfidence must be a number, got ${String(min)}`);
    const chosen = all.filter((e) => e.confidence >= min);
    if (chosen.length === 0) return [];
    const dim = chosen[0].embedding.length;
    const groupSize = wholeNumber(opts.groupSize ?? dim, 'groupSize', 'INVALID_GROUP_SIZE', 1, dim);
    chosen.forEach((e) => {
      if (e.embedding.length !== dim)
        throw new DsoError('DIM_MISMATCH', `experience ${e.id} has ${e.embedding.length} dims, the others ${dim}`);
    });
    const { codes, scales } = await this.codesOf(chosen, dim, groupSize, opts.baseline);
    const bpr = bytesPerRow(dim);
    const groups = Math.ceil(dim / groupSize);
    return chosen.map((e, i) => ({
      id: e.id,
      text: e.text,
      code: codes.slice(i * bpr, (i + 1) * bpr),
      scales: scales.slice(i * groups, (i + 1) * groups),
      dim,
      groupSize,
      confidence: e.confidence,
      domain: e.domain,
      epoch: e.epoch,
      source: e.source,
      createdAt: e.createdAt,
    }));
  }

  /**
   * The experiences' codes and scales. A library already holds each one's
   * signs and whole-vector scale, exactly what quantizing with one group and
   * no baseline gives: those are sent as they are, not computed again.
   */
  private async codesOf(chosen: CompressibleExperience[], dim: number, groupSize: number, baseline?: Float32Array): Promise<Quantized> {
    const bpr = bytesPerRow(dim);
    if (groupSize === dim && baseline === undefined && chosen.every((e) => e.code?.length === bpr && e.scale !== undefined)) {
      const codes = new Uint8Array(chosen.length * bpr);
      chosen.forEach((e, i) => codes.set(e.code as Uint8Array, i * bpr));
      return { codes, scales: Float32Array.from(chosen, (e) => e.scale as number) };
    }
    const x = new Float32Array(chosen.length * dim);
    chosen.forEach((e, i) => x.set(e.embedding, i * dim));
    return (await this.engine.get()).quantize(x, { dim, groupSize, baseline });
  }

  /** Measured sizes of the encoded records against the same records carrying float32 embeddings. */
  static compressionReport(records: readonly CompressedExperience[], embeddings?: readonly Float32Array[]): CompressionReport {
    if (records.length === 0) throw new DsoError('INVALID_COUNT', 'compressionReport needs at least one record');
    let rec = 0;
    let f32rec = 0;
    let emb = 0;
    let f32emb = 0;
    records.forEach((r, i) => {
      rec += encodeCompressed(r).byteLength;
      const full = embeddings?.[i] ?? new Float32Array(r.dim);
      f32rec += encodeCompressed(r, full).byteLength;
      emb += r.code.byteLength + r.scales.byteLength;
      f32emb += r.dim * 4;
    });
    const n = records.length;
    return {
      records: n,
      recordBytes: rec / n,
      float32RecordBytes: f32rec / n,
      embeddingBytes: emb / n,
      float32EmbeddingBytes: f32emb / n,
      embeddingRatio: f32emb / emb,
      recordRatio: f32rec / rec,
    };
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}
