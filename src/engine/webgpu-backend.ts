/**
 * The WebGPU backend. Each operation runs its WGSL program, except shapes the
 * programs do not cover (Hamming k > 256 or a histogram larger than workgroup
 * memory; median / trimmed mean over more than 64 rows), which run on the
 * fallback backend (native, else js), as does candidate rescoring. After a
 * device loss or an uncaptured error every later call runs on the fallback
 * instead of hanging, with the same results: resident codes keep their host
 * copy, which the fallback searches.
 */
import { DsoError } from '../core/errors.js';
import { GPU_MAX_ROWS, gpuColumnStatistic, gpuMajority } from '../gpu/columns.js';
import { type GpuOptions, openGpu } from '../gpu/device.js';
import { type Gpu, makeGpu } from '../gpu/gpu.js';
import { gpuHammingSupports, gpuHammingTopK, type SubgroupPick } from '../gpu/hamming.js';
import { gpuDequantize, gpuPack } from '../gpu/pack.js';
import { appendCodes, type GpuCodes, releaseCodes, uploadCodes } from '../gpu/resident-codes.js';
import { MAX_STAGING_CHUNK } from '../gpu/staging.js';
import type { Backend } from './backend.js';
import { measureSubgroups, type SubgroupChoice, subgroupPick } from './crossover.js';
import { holding } from './out.js';

export interface WebGpuBackend extends Backend {
  readonly gpu: Gpu;
  /** The subgroup choice in force: 'always', 'never', or measured per base size. */
  subgroups(): Promise<'always' | 'never' | SubgroupChoice>;
}

/** Per process and adapter: the subgroup path measured once (hardware adapters only). */
const measuredSubgroups = new Map<string, Promise<SubgroupChoice>>();

function stagingChunk(options: GpuOptions): number {
  const c = options.stagingChunkBytes ?? MAX_STAGING_CHUNK;
  if (!Number.isInteger(c) || c < 4 || c % 4 !== 0 || c > MAX_STAGING_CHUNK) {
    throw new DsoError('INVALID_ARGUMENT', `gpu.stagingChunkBytes must be a multiple of 4 in [4, ${MAX_STAGING_CHUNK}], got ${String(c)}`);
  }
  return c;
}

export async function webgpuBackend(fallback: Backend, options: GpuOptions = {}): Promise<WebGpuBackend> {
  const chunk = stagingChunk(options);
  const gpu = makeGpu(await openGpu(options), chunk);
  const info = { ...fallback.info, backend: 'webgpu' as const, adapter: gpu.ctx.adapter };

  // Runs on the GPU unless it has failed; a failure during the call moves it to the fallback.
  // `outs`: the caller's out arrays, which it may transfer away during the call (the readback into one then fails).
  async function run<T>(onGpu: () => Promise<T>, onFallback: () => Promise<T>, ...outs: Array<ArrayBufferView | undefined>): Promise<T> {
    if (gpu.ctx.failure) return onFallback();
    try {
      return await onGpu();
    } catch (e) {
      if (gpu.ctx.failure) return onFallback();
      if (e instanceof DsoError) throw e;
      for (const o of outs) if (o) holding(o);
      throw new DsoError('BACKEND_UNAVAILABLE', `WebGPU call failed: ${(e as Error).message}`, { cause: e });
    }
  }

  // The filter's subgroup path: forced either way by the option, else measured on a hardware adapter (never on a software one).
  let picked: Promise<SubgroupPick> | undefined;
  async function choice(): Promise<'always' | 'never' | SubgroupChoice> {
    const a = gpu.ctx.adapter;
    if (!a.subgroups || options.subgroups === false) return 'never';
    if (options.subgroups === true) return 'always';
    if (a.software) return 'never';
    const key = `${a.vendor}|${a.architecture}|${a.device}|${a.description}`;
    let measured = measuredSubgroups.get(key);
    if (!measured) {
      measured = measureSubgroups(gpu);
      measuredSubgroups.set(key, measured);
      measured.catch(() => measuredSubgroups.delete(key));
    }
    return measured;
  }
  function pick(): Promise<SubgroupPick> {
    picked ??= choice().then((c) => (c === 'always' ? () => true : c === 'never' ? () => false : subgroupPick(c)));
    return picked;
  }

  const backend: WebGpuBackend = {
    gpu,
    subgroups: choice,
    get info() {
      return gpu.ctx.failure ? { ...info, gpuFailure: gpu.ctx.failure } : info;
    },
    quantize: (x, s, baseline, out) =>
      run(
        () => gpuPack(gpu, x, s, baseline, out),
        () => fallback.quantize(x, s, baseline, out),
        out?.codes,
        out?.scales,
      ),
    dequantize: (codes, scales, s, baseline, out) =>
      run(
        () => gpuDequantize(gpu, codes, scales, s, baseline, out),
        () => fallback.dequantize(codes, scales, s, baseline, out),
        out,
      ),
    // A device that fails during the upload leaves the codes to the host.
    upload: (codes, dim) =>
      run(
        () => uploadCodes(gpu, codes, dim),
        async () => undefined,
      ),
    // After a failure the device copy is left behind: searches run on the host copy.
    append: async (device, codes) => {
      if (device && !gpu.ctx.failure) await appendCodes(gpu, device as GpuCodes, codes);
      return device;
    },
    release: (device) => {
      if (device) releaseCodes(gpu, device as GpuCodes);
    },
    holdsDevice: (device) => device !== undefined,
    gpuStats: () => ({ ...gpu.stats }),
    hammingTopK: (base, queries, dim, k, device, out) => {
      if (!gpuHammingSupports(gpu, dim, k)) return fallback.hammingTopK(base, queries, dim, k, undefined, out);
      const rows = base.length / Math.ceil(dim / 8);
      return run(
        async () => {
          const subgroups = await pick();
          if (device) return gpuHammingTopK(gpu, device as GpuCodes, queries, k, { rows, out, subgroups });
          const once = await uploadCodes(gpu, base, dim);
          try {
            return await gpuHammingTopK(gpu, once, queries, k, { out, subgroups });
          } finally {
            releaseCodes(gpu, once);
          }
        },
        () => fallback.hammingTopK(base, queries, dim, k, undefined, out),
        out?.ids,
        out?.distances,
      );
    },
    median: (rows, n, out) =>
      n > GPU_MAX_ROWS
        ? fallback.median(rows, n, out)
        : run(
            () => gpuColumnStatistic(gpu, rows, n, undefined, out),
            () => fallback.median(rows, n, out),
            out,
          ),
    trimmedMean: (rows, n, trim, out) =>
      n > GPU_MAX_ROWS
        ? fallback.trimmedMean(rows, n, trim, out)
        : run(
            () => gpuColumnStatistic(gpu, rows, n, Math.floor(trim * n), out),
            () => fallback.trimmedMean(rows, n, trim, out),
            out,
          ),
    majority: (codes, n, dim, out) =>
      run(
        () => gpuMajority(gpu, codes, n, dim, out),
        () => fallback.majority(codes, n, dim, out),
        out,
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
