/** What every GPU program needs: the device, its pipeline cache and buffer pool. */
import { DsoError } from '../core/errors.js';
import { BufferPool } from './buffers.js';
import type { GpuContext } from './device.js';
import { PipelineCache } from './pipelines.js';

export interface Gpu {
  ctx: GpuContext;
  pipelines: PipelineCache;
  pool: BufferPool;
  /** Hamming queries answered by the pruned path and by the exact path (after an overflow), for tests and benchmarks. */
  stats: { prunedQueries: number; exactQueries: number };
}

export function makeGpu(ctx: GpuContext): Gpu {
  return { ctx, pipelines: new PipelineCache(ctx), pool: new BufferPool(ctx), stats: { prunedQueries: 0, exactQueries: 0 } };
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

export function dispatch(encoder: GPUCommandEncoder, pipeline: GPUComputePipeline, group: GPUBindGroup, [x, y]: [number, number]): void {
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(x, y);
  pass.end();
}

/** Rows per chunk so one chunk's largest binding stays within the device's limit (and 2^31 elements). */
export function rowsPerChunk(gpu: Gpu, bytesPerRow: number): number {
  const limit = Math.min(gpu.ctx.limits.maxStorageBufferBindingSize, gpu.ctx.limits.maxBufferSize, 2 ** 31 - 4);
  return Math.max(1, Math.floor(limit / Math.max(4, bytesPerRow)));
}
