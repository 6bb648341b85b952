/**
 * backend 'auto': the native backend (js where the addon is missing), and
 * per operation the GPU where crossover.ts measured it faster at that size,
 * transfers included. The GPU is opened lazily, by the first operation large
 * enough to qualify. Codes uploaded for repeated search go to the GPU where a
 * resident search of that size was measured faster there.
 */
import { bytesPerRow } from '../core/checks.js';
import { openGpu } from '../gpu/device.js';
import { hardwareGpuPossible } from '../gpu/hardware.js';
import type { Backend, DeviceCodes } from './backend.js';
import { calibrate, CALIBRATION_WORK, type Crossover, MIN_GPU_WORK, NEVER, type Operation } from './crossover.js';
import type { EngineOptions } from './types.js';
import { type WebGpuBackend, webgpuBackend } from './webgpu-backend.js';

interface GpuChoice {
  backend?: WebGpuBackend;
  crossover: Crossover;
}

/** Codes auto uploaded: on the GPU (gpu set) or left to the host. */
interface AutoCodes {
  gpu?: DeviceCodes;
}

/**
 * Per process: whether the adapter is worth a device at all, and the
 * crossover measured on it. The adapter does not change while the process
 * runs, so every auto engine after the first skips the probe and calibration.
 */
let adapterSoftware: Promise<boolean | undefined> | undefined;
let measured: Promise<Crossover> | undefined;

function probeAdapter(): Promise<boolean | undefined> {
  adapterSoftware ??= openGpu()
    .then((ctx) => {
      ctx.device.destroy();
      return ctx.adapter.software;
    })
    .catch(() => undefined);
  return adapterSoftware;
}

export function autoBackend(host: Backend, options: EngineOptions['gpu'] = {}): Backend & { crossover(): Promise<Crossover> } {
  let opened: Promise<GpuChoice> | undefined;
  let adapterInfo: WebGpuBackend['info']['adapter'];
  let gpuBackend: WebGpuBackend | undefined;

  async function open(): Promise<GpuChoice> {
    if (!options.allowSoftware && !hardwareGpuPossible()) return { crossover: NEVER };
    const software = await probeAdapter();
    if (software === undefined || (software && !options.allowSoftware)) return { crossover: NEVER };
    try {
      const backend = await webgpuBackend(host, options);
      adapterInfo = backend.gpu.ctx.adapter;
      gpuBackend = backend;
      // A software adapter is only opened when asked (tests): measure it each time, at small sizes, never cache it.
      const crossover = software
        ? await calibrate(host, backend, CALIBRATION_WORK.slice(0, 2))
        : await (measured ??= calibrate(host, backend));
      return { backend, crossover };
    } catch {
      return { crossover: NEVER };
    }
  }

  async function gpuFor(op: Operation, work: number): Promise<WebGpuBackend | undefined> {
    if (work < MIN_GPU_WORK) return undefined;
    opened ??= open();
    const g = await opened;
    return g.backend && !g.backend.gpu.ctx.failure && work >= g.crossover[op] ? g.backend : undefined;
  }

  async function pick(op: Operation, work: number): Promise<Backend> {
    return (await gpuFor(op, work)) ?? host;
  }

  /** The GPU backend holding these codes, while it is healthy. */
  async function holder(d: AutoCodes | undefined): Promise<WebGpuBackend | undefined> {
    if (d?.gpu === undefined) return undefined;
    const g = await opened!;
    return g.backend && !g.backend.gpu.ctx.failure ? g.backend : undefined;
  }

  return {
    get info() {
      return adapterInfo ? { ...host.info, adapter: adapterInfo } : host.info;
    },
    crossover: async () => (opened ? (await opened).crossover : NEVER),
    quantize: async (x, s, b, out) => (await pick('quantize', x.byteLength)).quantize(x, s, b, out),
    dequantize: async (c, sc, s, b, out) => (await pick('dequantize', s.rows * s.dim * 4)).dequantize(c, sc, s, b, out),
    upload: async (codes, dim): Promise<AutoCodes> => {
      const g = await gpuFor('hammingResident', codes.byteLength);
      return g ? { gpu: await g.upload?.(codes, dim) } : {};
    },
    append: async (device, codes, dim) => {
      const d = device as AutoCodes;
      const g = await holder(d);
      if (g) await g.append?.(d.gpu, codes, dim);
      return d;
    },
    release: (device) => {
      const d = device as AutoCodes | undefined;
      if (d?.gpu !== undefined) void opened?.then((g) => g.backend?.release?.(d.gpu));
    },
    holdsDevice: (device) => (device as AutoCodes | undefined)?.gpu !== undefined,
    gpuStats: () => gpuBackend?.gpuStats?.(),
    hammingTopK: async (base, queries, dim, k, device, out) => {
      const d = device as AutoCodes | undefined;
      if (d !== undefined) {
        const g = await holder(d);
        return g ? g.hammingTopK(base, queries, dim, k, d.gpu, out) : host.hammingTopK(base, queries, dim, k, undefined, out);
      }
      const nq = queries.length / bytesPerRow(dim);
      return (await pick('hammingTopK', base.byteLength * nq)).hammingTopK(base, queries, dim, k, undefined, out);
    },
    median: async (rows, n, out) => (await pick('median', rows.byteLength)).median(rows, n, out),
    trimmedMean: async (rows, n, t, out) => (await pick('trimmedMean', rows.byteLength)).trimmedMean(rows, n, t, out),
    majority: async (codes, n, dim, out) => (await pick('majority', codes.byteLength)).majority(codes, n, dim, out),
    cosineCandidates: (vectors, rows, queries, dim) => host.cosineCandidates(vectors, rows, queries, dim),
    close: async () => {
      const g = await opened;
      await g?.backend?.close?.();
    },
  };
}
