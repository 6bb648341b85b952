/**
 * Loads the native addon (build/Release/dso_native.node) and exposes it with
 * types. The addon is context-aware: each worker thread that imports this
 * module gets its own instance.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { DsoError } from '../core/errors.js';

export type Tier = 'serial' | 'avx2' | 'avx512' | 'neon';

export interface CallOptions {
  isa?: Tier | 'auto';
  async?: boolean;
  /** false forces the AVX-512 Hamming kernel that does not use VPOPCNTDQ. */
  vpopcntdq?: boolean;
}

export interface CpuInfo {
  compiled: Tier[];
  available: Tier[];
  best: Tier;
  features: { avx2: boolean; avx512: boolean; vpopcntdq: boolean; neon: boolean };
}

type MaybeAsync<T> = T | Promise<T>;

/**
 * The kernels that produce arrays take the caller's own as a last argument
 * (`out`): checked natively for type, length, detachment and overlap with the
 * inputs, filled, and returned. Reused memory spares the kernel the page
 * faults of a fresh allocation.
 */
export interface NativeAddon {
  setErrorClass(ctor: typeof DsoError): void;
  cpuInfo(): CpuInfo;
  pack(
    x: Float32Array,
    dim: number,
    groupSize: number | undefined,
    baseline: Float32Array | null,
    opts?: CallOptions,
    out?: { codes: Uint8Array; scales: Float32Array },
  ): MaybeAsync<{ codes: Uint8Array; scales: Float32Array }>;
  dequantize(
    codes: Uint8Array,
    scales: Float32Array,
    dim: number,
    groupSize: number | undefined,
    baseline: Float32Array | null,
    opts?: CallOptions,
    out?: Float32Array,
  ): MaybeAsync<Float32Array>;
  hammingTopK(
    base: Uint8Array,
    queries: Uint8Array,
    dim: number,
    k: number,
    opts?: CallOptions,
    out?: { ids: Int32Array; distances: Int32Array },
  ): MaybeAsync<{ ids: Int32Array; distances: Int32Array }>;
  median(rows: Float32Array, n: number, opts?: CallOptions, out?: Float32Array): MaybeAsync<Float32Array>;
  trimmedMean(rows: Float32Array, n: number, trim: number, opts?: CallOptions, out?: Float32Array): MaybeAsync<Float32Array>;
  majority(codes: Uint8Array, n: number, dim: number, opts?: CallOptions, out?: Uint8Array): MaybeAsync<Uint8Array>;
  cosineCandidates(
    vectors: Float32Array,
    rows: Int32Array,
    queries: Float32Array,
    dim: number,
    opts?: CallOptions,
  ): MaybeAsync<Float32Array>;
  /** A private copy-on-write mapping of a whole regular file, shared by every thread (the index loader's mmap). */
  mapFile(path: string): SharedArrayBuffer;
  streamRead(data: Uint8Array, opts?: CallOptions): number;
  xorPopcount(iterations: number, opts?: CallOptions): { checksum: number; words: number };
}

const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return from;
    dir = up;
  }
  return dir;
}

/** Where the addon is looked for, first match wins. */
export const addonPaths = [process.env.DSO_NATIVE_ADDON, path.join(packageRoot, 'build', 'Release', 'dso_native.node')].filter(
  (p): p is string => typeof p === 'string' && p.length > 0,
);

let cached: NativeAddon | undefined;
let loadError: DsoError | undefined;

/** The addon, or a DsoError('ADDON_UNAVAILABLE') saying how to build it. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  if (loadError) throw loadError;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const p of addonPaths) {
    if (!existsSync(p)) {
      tried.push(`${p} (missing)`);
      continue;
    }
    try {
      const addon = require(p) as NativeAddon;
      addon.setErrorClass(DsoError);
      cached = addon;
      return addon;
    } catch (e) {
      tried.push(`${p} (${(e as Error).message})`);
    }
  }
  loadError = new DsoError(
    'ADDON_UNAVAILABLE',
    `the native addon could not be loaded; run \`npm run build:native\` (needs cmake and a C++17 compiler). Tried: ${tried.join('; ')}`,
  );
  throw loadError;
}

export function addonAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}
