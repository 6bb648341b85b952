/**
 * WebGPU in Node through the `webgpu` package (Dawn). Opens an adapter and a
 * device with the limits the kernels need (as large as the adapter allows),
 * and tracks device loss and uncaptured errors so callers can fall back
 * instead of hanging.
 */
import { DsoError } from '../core/errors.js';

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software rasterizer (lavapipe, SwiftShader): correct, never fast. */
  software: boolean;
  /** Whether the programs use subgroup operations on this device (the adapter offers them and they were not turned off). */
  subgroups: boolean;
}

export interface GpuContext {
  /** The Dawn instance. Held for as long as the device lives: once collected, Dawn's event processing touches freed memory. */
  instance: GPU;
  device: GPUDevice;
  adapter: AdapterDescription;
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeWorkgroupsPerDimension: number;
  };
  /** Set once the device is lost or reported an uncaptured error. */
  failure: string | undefined;
}

type WebGpuModule = { create(flags: string[]): GPU; globals: Record<string, unknown> };

let gpuModule: Promise<WebGpuModule> | undefined;
/** One Dawn instance per process, never collected (see GpuContext.instance). */
let instance: GPU | undefined;

async function loadWebGpu(): Promise<WebGpuModule> {
  gpuModule ??= import('webgpu').then((imported) => {
    const m = imported as unknown as WebGpuModule;
    // Dawn's classes (GPUBufferUsage, GPUMapMode, ...) as the WebGPU globals a browser would have.
    for (const [k, v] of Object.entries(m.globals)) if (!(k in globalThis)) Object.assign(globalThis, { [k]: v });
    return m;
  });
  return gpuModule;
}

function describe(info: GPUAdapterInfo | undefined, fallback: boolean, subgroups: boolean): AdapterDescription {
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const text = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  return {
    vendor,
    architecture,
    device,
    description,
    software: fallback || /llvmpipe|lavapipe|swiftshader|software/.test(text),
    subgroups,
  };
}

export interface GpuOptions {
  /** Caps the bytes one binding may hold (chunking kicks in sooner); default: the device's limit. */
  maxBindingBytes?: number;
  /**
   * The Hamming filter's subgroup path: true always (where the adapter offers
   * subgroups), false never; by default chosen per adapter and size by
   * measurement (src/engine/crossover.ts), and never on a software adapter.
   */
  subgroups?: boolean;
  /** Bytes per upload chunk through the staging ring (a multiple of 4, at most 64 MiB, the default); small for tests. */
  stagingChunkBytes?: number;
}

export async function openGpu(options: GpuOptions = {}): Promise<GpuContext> {
  let gpu: GPU;
  try {
    const m = await loadWebGpu();
    instance ??= m.create([]);
    gpu = instance;
  } catch (e) {
    throw new DsoError('BACKEND_UNAVAILABLE', `WebGPU (the webgpu package) could not be loaded: ${(e as Error).message}`, { cause: e });
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new DsoError(
      'BACKEND_UNAVAILABLE',
      'no WebGPU adapter: no GPU driver, and no Vulkan software driver (Mesa lavapipe) is installed',
    );
  }
  const a = adapter.limits;
  const subgroups = options.subgroups !== false && adapter.features.has('subgroups');
  const device = await adapter.requestDevice({
    requiredFeatures: subgroups ? ['subgroups'] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
      maxBufferSize: a.maxBufferSize,
      maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: Math.min(256, a.maxComputeInvocationsPerWorkgroup),
      maxComputeWorkgroupSizeX: Math.min(256, a.maxComputeWorkgroupSizeX),
      maxStorageBuffersPerShaderStage: Math.min(8, a.maxStorageBuffersPerShaderStage),
    },
  });
  const ctx: GpuContext = {
    instance: gpu,
    device,
    adapter: describe(adapter.info, (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true, subgroups),
    limits: {
      maxStorageBufferBindingSize: Math.min(device.limits.maxStorageBufferBindingSize, options.maxBindingBytes ?? Infinity),
      maxBufferSize: device.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    },
    failure: undefined,
  };
  void device.lost.then((info) => {
    ctx.failure ??= `device lost (${info.reason}): ${info.message}`;
  });
  device.addEventListener('uncapturederror', (ev) => {
    ctx.failure ??= `uncaptured WebGPU error: ${ev.error.message}`;
  });
  return ctx;
}
