import type { CpuInfo, Tier } from '../simd/addon.js';

export type BackendName = 'native' | 'js';
export type BackendChoice = BackendName | 'auto';

export interface EngineOptions {
  /** 'auto' (default): native where the addon loads, else js. */
  backend?: BackendChoice;
  /** Force a native kernel tier; an unavailable one is a DsoError('ISA_UNAVAILABLE'). */
  isa?: Tier;
  /** Set false to force the AVX-512 Hamming kernel that does not use VPOPCNTDQ. */
  vpopcntdq?: boolean;
}

export interface EngineInfo {
  backend: BackendName;
  /** The kernel tier that runs ('js' for the pure-TS backend). */
  isa: Tier | 'js';
  /** Whether the Hamming kernel uses AVX-512 VPOPCNTDQ. */
  vpopcntdq: boolean;
  cpu?: CpuInfo;
}

export interface QuantizeOptions {
  dim: number;
  /** Dims per scale; defaults to dim (one scale per row). */
  groupSize?: number;
  /** Subtracted before packing (the BitDelta delta); dim values. */
  baseline?: Float32Array;
}

export interface Quantized {
  codes: Uint8Array;
  scales: Float32Array;
}

export interface TopK {
  ids: Int32Array;
  distances: Int32Array;
}

export interface Engine {
  readonly info: EngineInfo;
  quantize(x: Float32Array, opts: QuantizeOptions): Promise<Quantized>;
  dequantize(q: Quantized, opts: QuantizeOptions): Promise<Float32Array>;
  hammingTopK(base: Uint8Array, queries: Uint8Array, opts: { dim: number; k: number }): Promise<TopK>;
  median(rows: Float32Array, opts: { n: number }): Promise<Float32Array>;
  trimmedMean(rows: Float32Array, opts: { n: number; trim: number }): Promise<Float32Array>;
  majority(codes: Uint8Array, opts: { n: number; dim: number }): Promise<Uint8Array>;
  close(): Promise<void>;
}
