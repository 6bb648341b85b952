import type { AdapterDescription } from '../gpu/device.js';
import type { GpuStats } from '../gpu/gpu.js';
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
    /**
     * The Hamming filter's subgroup path: true always (where the adapter offers
     * subgroups), false never; by default chosen per adapter and base size by
     * measurement on a hardware adapter, never on a software one.
     */
    subgroups?: boolean;
    /** Bytes per upload chunk through the staging ring (a multiple of 4, at most 64 MiB, the default); small for tests. */
    stagingChunkBytes?: number;
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
 * Codes uploaded once and searched many times: in shared memory so large
 * searches can be sharded, and on the GPU where the backend keeps them there
 * (webgpu; auto where a resident search of that size was measured faster on
 * the GPU). Rows can be appended; only they are uploaded.
 */
export interface ResidentCodes {
  readonly dim: number;
  /** Rows present (appends included). */
  readonly n: number;
  /** Whether a copy is on a device (the GPU); false where the codes stay in host memory. */
  readonly onDevice: boolean;
  /**
   * Adds rows after those present: only they travel to the device. Searches
   * already running read the rows of their start. A device that fails during
   * the append leaves the codes to host memory (searches stay exact).
   */
  append(codes: Uint8Array): Promise<void>;
  /** Frees the device memory; later searches against it are an error. */
  release(): void;
}

export interface UploadOptions {
  dim: number;
  /**
   * Codes in a SharedArrayBuffer are used in place instead of copied (an
   * index's own storage): the caller must leave those rows unchanged while the
   * resident codes live. Other codes are always copied, and the caller's
   * array is not referenced afterwards.
   */
  adopt?: boolean;
}

/** What the engine's worker threads (and its GPU, once it has one) have done, for tests and metrics. */
export interface ShardStats {
  /** Sharded dispatches (concurrent callers over the same rows share one). */
  shardBatches: number;
  /** Shard searches run by workers. */
  shardTasks: number;
  /** The kernels the workers ran, as 'backend/tier' ('native/avx2', 'native/avx512+vpopcntdq', 'js/js'). */
  workerTiers: string[];
  /** Submissions, passes, dispatches and bytes moved on the GPU (webgpu, and auto once it opened one). */
  gpu?: GpuStats;
}

/**
 * Every call that returns arrays takes `out`: arrays the caller owns, of the
 * result's type and exact length, sharing no memory with the inputs. They are
 * filled and returned, so a caller that reuses them spares the allocation and
 * its first-touch page faults (and, on the GPU, the copy of the readback).
 * A wrong `out` is a DsoError (INVALID_ARGUMENT, LENGTH_MISMATCH,
 * DETACHED_BUFFER; a resizable ArrayBuffer is INVALID_ARGUMENT) before any
 * work starts, and an `out` transferred away during the call is
 * DETACHED_BUFFER. After a failed call (a NaN in the input, say) its
 * contents are unspecified.
 */
export interface Engine {
  readonly info: EngineInfo;
  stats(): ShardStats;
  quantize(x: Float32Array, opts: QuantizeOptions & { out?: Quantized }): Promise<Quantized>;
  dequantize(q: Quantized, opts: QuantizeOptions & { out?: Float32Array }): Promise<Float32Array>;
  uploadCodes(codes: Uint8Array, opts: UploadOptions): Promise<ResidentCodes>;
  /** Over resident codes, `rows` searches their first rows only (a snapshot taken before later appends); default all. */
  hammingTopK(
    base: Uint8Array | ResidentCodes,
    queries: Uint8Array,
    opts: { dim: number; k: number; out?: TopK; rows?: number },
  ): Promise<TopK>;
  median(rows: Float32Array, opts: { n: number; out?: Float32Array }): Promise<Float32Array>;
  trimmedMean(rows: Float32Array, opts: { n: number; trim: number; out?: Float32Array }): Promise<Float32Array>;
  majority(codes: Uint8Array, opts: { n: number; dim: number; out?: Uint8Array }): Promise<Uint8Array>;
  /** Cosine of query q against rows[q*c .. q*c+c) of `vectors` (dim per row); row -1 gives NaN. */
  cosineCandidates(vectors: Float32Array, rows: Int32Array, queries: Float32Array, opts: { dim: number }): Promise<Float32Array>;
  close(): Promise<void>;
}
