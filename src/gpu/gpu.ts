/** What every GPU program needs: the device, its pipeline cache, buffer pool and staging ring. */
import { DsoError } from '../core/errors.js';
import { BufferPool, type Readback, readBack } from './buffers.js';
import type { GpuContext } from './device.js';
import { PipelineCache } from './pipelines.js';
import { MAX_STAGING_CHUNK, StagingRing, type TransferStats } from './staging.js';

/** What the programs did, for tests and benchmarks (pass and transfer counts show on any adapter, lavapipe too). */
export interface GpuStats extends TransferStats {
  /** Hamming queries answered by the pruned path and by the exact path (after an overflow). */
  prunedQueries: number;
  exactQueries: number;
  /** Command buffers submitted for kernels (staging copies are counted as stagedChunks), compute passes and dispatches in them. */
  submits: number;
  passes: number;
  dispatches: number;
}

export interface Gpu {
  ctx: GpuContext;
  pipelines: PipelineCache;
  pool: BufferPool;
  stats: GpuStats;
}

export function makeGpu(ctx: GpuContext, stagingChunkBytes = MAX_STAGING_CHUNK): Gpu {
  const stats: GpuStats = {
    prunedQueries: 0,
    exactQueries: 0,
    submits: 0,
    passes: 0,
    dispatches: 0,
    stagedBytes: 0,
    stagedChunks: 0,
    directBytes: 0,
    readBytes: 0,
    readMaps: 0,
  };
  const ring = new StagingRing(ctx, stagingChunkBytes, stats);
  return { ctx, pipelines: new PipelineCache(ctx), pool: new BufferPool(ctx, ring, stats), stats };
}

/** Throws if the device was lost or reported an error, so callers fall back. */
export function ensureHealthy(gpu: Gpu): void {
  if (gpu.ctx.failure) throw new DsoError('BACKEND_UNAVAILABLE', `the WebGPU device failed: ${gpu.ctx.failure}`);
}

/** Binds buffers[i] at binding i; undefined leaves out a binding the entry point does not use. */
export function bindGroup(gpu: Gpu, pipeline: GPUComputePipeline, buffers: Array<GPUBuffer | undefined>): GPUBindGroup {
  const entries: GPUBindGroupEntry[] = [];
  buffers.forEach((buffer, binding) => {
    if (buffer) entries.push({ binding, resource: { buffer } });
  });
  return gpu.ctx.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
}

export type Dispatch = [GPUComputePipeline, GPUBindGroup, [number, number]];

/** Records the dispatches in one compute pass (Dawn orders a dispatch after the writes of the ones before it). */
export function computePass(gpu: Gpu, encoder: GPUCommandEncoder, dispatches: Dispatch[]): void {
  const pass = encoder.beginComputePass();
  for (const [pipeline, group, [x, y]] of dispatches) {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y);
  }
  pass.end();
  gpu.stats.passes++;
  gpu.stats.dispatches += dispatches.length;
}

export function dispatch(
  gpu: Gpu,
  encoder: GPUCommandEncoder,
  pipeline: GPUComputePipeline,
  group: GPUBindGroup,
  size: [number, number],
): void {
  computePass(gpu, encoder, [[pipeline, group, size]]);
}

/** Submits kernels and reads results back: one submission, one map. */
export function readResults(gpu: Gpu, encoder: GPUCommandEncoder, parts: Readback[]): Promise<void> {
  gpu.stats.submits++;
  return readBack(gpu.ctx, gpu.pool, gpu.stats, encoder, parts);
}

/** Submits kernels whose results stay on the device. */
export function submit(gpu: Gpu, encoder: GPUCommandEncoder): void {
  gpu.stats.submits++;
  gpu.ctx.device.queue.submit([encoder.finish()]);
}

/**
 * Workgroups of 256 invocations for a grid-stride kernel that streams a
 * buffer: enough to fill any current GPU; on a software adapter a few per
 * CPU thread (each workgroup costs it a scheduling step, a loop iteration
 * next to nothing).
 */
export function streamWorkgroups(gpu: Gpu, invocations: number): number {
  return Math.max(1, Math.min(gpu.ctx.adapter.software ? 64 : 4096, Math.ceil(invocations / 256)));
}

/** Rows per chunk so one chunk's largest binding stays within the device's limit (and 2^31 elements). */
export function rowsPerChunk(gpu: Gpu, bytesPerRow: number): number {
  const limit = Math.min(gpu.ctx.limits.maxStorageBufferBindingSize, gpu.ctx.limits.maxBufferSize, 2 ** 31 - 4);
  return Math.max(1, Math.floor(limit / Math.max(4, bytesPerRow)));
}
