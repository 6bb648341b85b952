/**
 * The WebGPU backend. Each operation runs its WGSL program, except shapes the
 * programs do not cover (Hamming k > 256 or a histogram larger than workgroup
 * memory; median / trimmed mean over more than 64 rows), which run on the
 * fallback backend (native, else js), as does candidate rescoring. After a device loss or an uncaptured
 * error every later call runs on the fallback instead of hanging.
 */
import { DsoError } from '../core/errors.js';
import { GPU_MAX_ROWS, gpuColumnStatistic, gpuMajority } from '../gpu/columns.js';
import { type GpuOptions, openGpu } from '../gpu/device.js';
import { type Gpu, makeGpu } from '../gpu/gpu.js';
import { type GpuCodes, gpuHammingSupports, gpuHammingTopK, releaseCodes, uploadCodes } from '../gpu/hamming.js';
import { gpuDequantize, gpuPack } from '../gpu/pack.js';
import type { Backend } from './backend.js';

export interface WebGpuBackend extends Backend {
  readonly gpu: Gpu;
}

export async function webgpuBackend(fallback: Backend, options: GpuOptions = {}): Promise<WebGpuBackend> {
  const gpu = makeGpu(await openGpu(options));
  const info = { ...fallback.info, backend: 'webgpu' as const, adapter: gpu.ctx.adapter };

  // Runs on the GPU unless it has failed; a failure during the call moves it to the fallback.
  async function run<T>(onGpu: () => Promise<T>, onFallback: () => Promise<T>): Promise<T> {
    if (gpu.ctx.failure) return onFallback();
    try {
      return await onGpu();
    } catch (e) {
      if (gpu.ctx.failure) return onFallback();
      if (e instanceof DsoError) throw e;
      throw new DsoError('BACKEND_UNAVAILABLE', `WebGPU call failed: ${(e as Error).message}`, { cause: e });
    }
  }

  const backend: WebGpuBackend = {
    gpu,
    get info() {
      return gpu.ctx.failure ? { ...info, gpuFailure: gpu.ctx.failure } : info;
    },
    quantize: (x, s, baseline) =>
      run(
        () => gpuPack(gpu, x, s, baseline),
        () => fallback.quantize(x, s, baseline),
      ),
    dequantize: (codes, scales, s, baseline) =>
      run(
        () => gpuDequantize(gpu, codes, scales, s, baseline),
        () => fallback.dequantize(codes, scales, s, baseline),
      ),
    upload: async (codes, dim) => (gpu.ctx.failure ? undefined : uploadCodes(gpu, codes, dim)),
    release: (device) => {
      if (device) releaseCodes(gpu, device as GpuCodes);
    },
    hammingTopK: (base, queries, dim, k, device) => {
      if (!gpuHammingSupports(gpu, dim, k)) return fallback.hammingTopK(base, queries, dim, k);
      return run(
        async () => {
          if (device) return gpuHammingTopK(gpu, device as GpuCodes, queries, k);
          const once = await uploadCodes(gpu, base, dim);
          try {
            return await gpuHammingTopK(gpu, once, queries, k);
          } finally {
            releaseCodes(gpu, once);
          }
        },
        () => fallback.hammingTopK(base, queries, dim, k),
      );
    },
    median: (rows, n) =>
      n > GPU_MAX_ROWS
        ? fallback.median(rows, n)
        : run(
            () => gpuColumnStatistic(gpu, rows, n, undefined),
            () => fallback.median(rows, n),
          ),
    trimmedMean: (rows, n, trim) =>
      n > GPU_MAX_ROWS
        ? fallback.trimmedMean(rows, n, trim)
        : run(
            () => gpuColumnStatistic(gpu, rows, n, Math.floor(trim * n)),
            () => fallback.trimmedMean(rows, n, trim),
          ),
    majority: (codes, n, dim) =>
      run(
        () => gpuMajority(gpu, codes, n, dim),
        () => fallback.majority(codes, n, dim),
      ),
    // Rescoring gathers a few candidate rows per query: no GPU program for it.
    cosineCandidates: (vectors, rows, queries, dim) => fallback.cosineCandidates(vectors, rows, queries, dim),
    close: async () => {
      gpu.pool.destroy();
      gpu.ctx.device.destroy();
    },
  };
  return backend;
}
