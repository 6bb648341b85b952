/**
 * What a backend implements. Inputs reach a backend already shape-checked by
 * the engine (src/core/checks.ts); backends still detect non-finite values in
 * the pass that reads them.
 */
import type { PackShape } from '../core/checks.js';
import type { EngineInfo, Quantized, TopK } from './types.js';

/** A backend's own handle on uploaded codes (GPU buffers); undefined where codes stay in host memory. */
export type DeviceCodes = unknown;

export interface Backend {
  readonly info: EngineInfo;
  quantize(x: Float32Array, s: PackShape, baseline?: Float32Array): Promise<Quantized>;
  dequantize(codes: Uint8Array, scales: Float32Array, s: PackShape, baseline?: Float32Array): Promise<Float32Array>;
  upload?(codes: Uint8Array, dim: number): Promise<DeviceCodes>;
  release?(device: DeviceCodes): void;
  hammingTopK(base: Uint8Array, queries: Uint8Array, dim: number, k: number, device?: DeviceCodes): Promise<TopK>;
  median(rows: Float32Array, n: number): Promise<Float32Array>;
  trimmedMean(rows: Float32Array, n: number, trim: number): Promise<Float32Array>;
  majority(codes: Uint8Array, n: number, dim: number): Promise<Uint8Array>;
  cosineCandidates(vectors: Float32Array, rows: Int32Array, queries: Float32Array, dim: number): Promise<Float32Array>;
  close?(): Promise<void>;
}
