/**
 * What a backend implements. Inputs reach a backend already shape-checked by
 * the engine (src/core/checks.ts); backends still detect non-finite values in
 * the pass that reads them. `out` (checked too) is where the caller wants the
 * result: a backend that can write there does; the engine copies any other
 * result into it.
 */
import type { PackShape } from '../core/checks.js';
import type { GpuStats } from '../gpu/gpu.js';
import type { EngineInfo, Quantized, TopK } from './types.js';

/** A backend's own handle on uploaded codes (GPU buffers); undefined where codes stay in host memory. */
export type DeviceCodes = unknown;

export interface Backend {
  readonly info: EngineInfo;
  quantize(x: Float32Array, s: PackShape, baseline?: Float32Array, out?: Quantized): Promise<Quantized>;
  dequantize(codes: Uint8Array, scales: Float32Array, s: PackShape, baseline?: Float32Array, out?: Float32Array): Promise<Float32Array>;
  upload?(codes: Uint8Array, dim: number): Promise<DeviceCodes>;
  /** Adds rows to uploaded codes (only they travel); returns the handle to use from now on. */
  append?(device: DeviceCodes, codes: Uint8Array, dim: number): Promise<DeviceCodes>;
  release?(device: DeviceCodes): void;
  /** Whether the handle upload returned holds a device copy (else the codes stay in host memory). */
  holdsDevice?(device: DeviceCodes): boolean;
  /** With `device`, base is the host copy of exactly the rows to search (a prefix of the uploaded rows). */
  hammingTopK(base: Uint8Array, queries: Uint8Array, dim: number, k: number, device?: DeviceCodes, out?: TopK): Promise<TopK>;
  median(rows: Float32Array, n: number, out?: Float32Array): Promise<Float32Array>;
  trimmedMean(rows: Float32Array, n: number, trim: number, out?: Float32Array): Promise<Float32Array>;
  majority(codes: Uint8Array, n: number, dim: number, out?: Uint8Array): Promise<Uint8Array>;
  cosineCandidates(vectors: Float32Array, rows: Int32Array, queries: Float32Array, dim: number): Promise<Float32Array>;
  /** What the GPU has done, where the backend has one open. */
  gpuStats?(): GpuStats | undefined;
  close?(): Promise<void>;
}
