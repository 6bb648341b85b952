/**
 * backend 'auto': the native backend (js where the addon is missing), and
 * per operation the GPU where crossover.ts says it is faster at that size.
 * The GPU is opened lazily, by the first operation large enough to qualify.
 */
import { bytesPerRow } from '../core/checks.js';
import { openGpu } from '../gpu/device.js';
import { hardwareGpuPossible } from '../gpu/hardware.js';
import type { Backend, DeviceCodes } from './backend.js';
import { calibrate, type Crossover, MIN_GPU_WORK, NEVER, type Operation } from './crossover.js';
import type { EngineOptions } from './types.js';
import { type WebGpuBackend, webgpuBackend } from './webgpu-backend.js';

interface GpuChoice {
  backend?: WebGpuBackend;
  crossover: Crossover;
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

  async function open(): Promise<GpuChoice> {
    if (!options.allowSoftware && !hardwareGpuPossible()) return { crossover: NEVER };
    const software = await probeAdapter();
    if (software === undefined || (software && !options.allowSoftware)) return { crossover: NEVER };
    try {
      const backend = await webgpuBackend(host, options);
      adapterInfo = backend.gpu.ctx.adapter;
      // A software adapter is only opened when asked (tests): measure it each time, never cache it.
      const crossover = software ? await calibrate(host, backend) : await (measured ??= calibrate(host, backend));
      return { backend, crossover };
    } catch {
      return { crossover: NEVER };
    }
  }

  async function pick(op: Operation, work: number): Promise<Backend> {
    if (work < MIN_GPU_WORK) return host;
    opened ??= open();
    const g = await opened;
    return g.backend && !g.backend.gpu.ctx.failure && work >= g.crossover[op] ? g.backend : host;
  }

  return {
    get info() {
      return adapterInfo ? { ...host.info, adapter: adapterInfo } : host.info;
    },
    crossover: async () => (opened ? (await opened).crossover : NEVER),
    quantize: async (x, s, b) => (await pick('quantize', x.byteLength)).quantize(x, s, b),
    dequantize: async (c, sc, s, b) => (await pick('dequantize', s.rows * s.dim * 4)).dequantize(c, sc, s, b),
    upload: async (codes, dim): Promise<DeviceCodes> => {
      const b = await pick('hammingTopK', codes.byteLength);
      return b === host ? undefined : { gpu: await b.upload?.(codes, dim) };
    },
    release: (device) => {
      const d = device as { gpu?: unknown } | undefined;
      if (d?.gpu !== undefined) void opened?.then((g) => g.backend?.release?.(d.gpu));
    },
    hammingTopK: async (base, queries, dim, k, device) => {
      const d = device as { gpu?: unknown } | undefined;
      if (d?.gpu !== undefined) {
        const g = await opened!;
        if (g.backend && !g.backend.gpu.ctx.failure) return g.backend.hammingTopK(base, queries, dim, k, d.gpu);
        return host.hammingTopK(base, queries, dim, k);
      }
      const nq = queries.length / bytesPerRow(dim);
      return (await pick('hammingTopK', base.byteLength * nq)).hammingTopK(base, queries, dim, k);
    },
    median: async (rows, n) => (await pick('median', rows.byteLength)).median(rows, n),
    trimmedMean: async (rows, n, t) => (await pick('trimmedMean', rows.byteLength)).trimmedMean(rows, n, t),
    majority: async (codes, n, dim) => (await pick('majority', codes.byteLength)).majority(codes, n, dim),
    cosineCandidates: (vectors, rows, queries, dim) => host.cosineCandidates(vectors, rows, queries, dim),
    close: async () => {
      const g = await opened;
      await g?.backend?.close?.();
    },
  };
}
