import type { AdapterDescription } from '../gpu/device.js';
import type { CpuInfo, Tier } from '../simd/addon.js';

export type BackendName = 'native' | 'js' | 'webgpu';
export type BackendChoice = BackendName | 'auto';

export interface EngineOptions {
  /** 'auto' (default): native where the addon loads (else js), and the GPU per operation where measured faster. */
  backend?: BackendChoice;
  /** Force a native kernel tier; an unavailable one is a DsoError('ISA_UNAVAILABLE'). */
  isa?: Tier;
  /** Set false to force the AVX-512 Hamming kernel that does not use VPOPCNTDQ. */
  vpopcntdq?: boolean;
  /**
   * Native calls touching at most this many bytes run inline on the calling
   * thread; larger ones on the libuv pool (default 256 KiB).
   */
  inlineBytes?: number;
  /**
   * Worker threads for searches over large code matrices in shared memory
   * (default: the core count; 1 searches on the calling thread's backend only).
   */
  threads?: number;
  /** Searches over at least this many rows of shared memory are split across the threads (default 65,536). */
  shardRows?: number;
  gpu?: {
    /** Caps the bytes one GPU binding holds, so inputs are split sooner (default: the device's limit). */
    maxBindingBytes?: number;
    /** Set false to run the WGSL paths without subgroup operations even where the adapter offers them. */
    subgroups?: boolean;
    /** 'auto' considers software adapters (lavapipe) too; they never win, so this is for tests. */
    allowSoftware?: boolean;
  };
}

export interface EngineInfo {
  backend: BackendName;
  /** The native kernel tier that runs (also for webgpu fallbacks), or 'js'. */
  isa: Tier | 'js';
  /** Whether the Hamming kernel uses AVX-512 VPOPCNTDQ. */
  vpopcntdq: boolean;
  /** Worker threads that large searches are sharded across (1: none). */
  threads: number;
  cpu?: CpuInfo;
  /** The WebGPU adapter, for the webgpu backend (and auto once it has opened one). */
  adapter?: AdapterDescription;
  /** Why the GPU is no longer used, after a device loss or uncaptured error. */
  gpuFailure?: string;
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

/**
 * Codes uploaded once and searched many times: copied into shared memory
 * (unless already there) so large searches can be sharded, and onto the GPU
 * where the backend has one. The caller's array is not referenced afterwards.
 */
export interface ResidentCodes {
  readonly dim: number;
  readonly n: number;
  /** Frees the device memory; later searches against it are an error. */
  release(): void;
}

/** What the engine's worker threads have done, for tests and metrics. */
export interface ShardStats {
  /** Sharded dispatches (concurrent callers over the same rows share one). */
  shardBatches: number;
  /** Shard searches run by workers. */
  shardTasks: number;
  /** The kernels the workers ran, as 'backend/tier' ('native/avx2', 'native/avx512+vpopcntdq', 'js/js'). */
  workerTiers: string[];
}

export interface Engine {
  readonly info: EngineInfo;
  stats(): ShardStats;
  quantize(x: Float32Array, opts: QuantizeOptions): Promise<Quantized>;
  dequantize(q: Quantized, opts: QuantizeOptions): Promise<Float32Array>;
  uploadCodes(codes: Uint8Array, opts: { dim: number }): Promise<ResidentCodes>;
  hammingTopK(base: Uint8Array | ResidentCodes, queries: Uint8Array, opts: { dim: number; k: number }): Promise<TopK>;
  median(rows: Float32Array, opts: { n: number }): Promise<Float32Array>;
  trimmedMean(rows: Float32Array, opts: { n: number; trim: number }): Promise<Float32Array>;
  majority(codes: Uint8Array, opts: { n: number; dim: number }): Promise<Uint8Array>;
  /** Cosine of query q against rows[q*c .. q*c+c) of `vectors` (dim per row); row -1 gives NaN. */
  cosineCandidates(vectors: Float32Array, rows: Int32Array, queries: Float32Array, opts: { dim: number }): Promise<Float32Array>;
  close(): Promise<void>;
}
