/**
 * Every backend configuration the shared kernel suites run on: the js
 * reference, then each native tier compiled in (forced down the dispatch
 * ladder), and the AVX-512 Hamming kernel with and without VPOPCNTDQ. A tier
 * this machine cannot run is listed as skipped by name, never dropped.
 */
import { afterEach, expect } from 'vitest';

import { openGpu } from '../../src/gpu/device.js';
import { createEngine, type Engine, type EngineOptions } from '../../src/index.js';
import { addonAvailable, loadAddon } from '../../src/simd/addon.js';

export interface BackendCase {
  name: string;
  options: EngineOptions;
  available: boolean;
  why?: string;
  /** Trimmed means and scales sum in f32 on this backend (WGSL has no f64): compared with a tolerance. */
  f32Sums?: boolean;
}

/** Whether a WebGPU adapter exists here (lavapipe counts) and offers subgroups, checked once per test file. */
const gpuProbe: Promise<{ why?: string; subgroups: boolean }> = openGpu()
  .then(async (ctx) => {
    ctx.device.destroy();
    return { subgroups: ctx.adapter.subgroups };
  })
  .catch((e: Error) => ({ why: e.message, subgroups: false }));
const probed = await gpuProbe;
export const gpuUnavailable = probed.why;
export const gpuSubgroups = probed.subgroups;

export function backendCases(): BackendCase[] {
  const cases: BackendCase[] = [{ name: 'js', options: { backend: 'js' }, available: true }];
  if (!addonAvailable()) {
    cases.push({ name: 'native', options: { backend: 'native' }, available: false, why: 'addon not built' });
    return withGpu(cases);
  }
  const cpu = loadAddon().cpuInfo();
  for (const isa of cpu.compiled) {
    const available = cpu.available.includes(isa);
    const why = available ? undefined : `this CPU/OS lacks ${isa}`;
    if (isa === 'avx512') {
      cases.push({ name: 'native/avx512 (no vpopcntdq)', options: { backend: 'native', isa, vpopcntdq: false }, available, why });
      cases.push({
        name: 'native/avx512 (vpopcntdq)',
        options: { backend: 'native', isa },
        available: available && cpu.features.vpopcntdq,
        why: available && !cpu.features.vpopcntdq ? 'this CPU lacks AVX512_VPOPCNTDQ' : why,
      });
    } else {
      cases.push({ name: `native/${isa}`, options: { backend: 'native', isa }, available, why });
    }
  }
  return withGpu(cases);
}

function withGpu(cases: BackendCase[]): BackendCase[] {
  const why = gpuUnavailable ? `no WebGPU adapter (${gpuUnavailable})` : undefined;
  cases.push({
    name: 'webgpu (subgroups)',
    options: { backend: 'webgpu', gpu: { subgroups: true } },
    available: !gpuUnavailable && gpuSubgroups,
    why: why ?? (gpuSubgroups ? undefined : 'the adapter offers no subgroup operations'),
    f32Sums: true,
  });
  cases.push({
    name: 'webgpu (no subgroups)',
    options: { backend: 'webgpu', gpu: { subgroups: false } },
    available: !gpuUnavailable,
    why,
    f32Sums: true,
  });
  // A 4 KiB binding cap splits every input into many chunks/segments, exercising the exact merges;
  // 4 KiB staging chunks send every upload past one through the staging ring in many pieces.
  cases.push({
    name: 'webgpu (chunked: 4 KiB bindings and staging chunks)',
    options: { backend: 'webgpu', gpu: { maxBindingBytes: 4096, stagingChunkBytes: 4096 } },
    available: !gpuUnavailable,
    why,
    f32Sums: true,
  });
  return cases;
}

const open: Engine[] = [];

export async function engineFor(c: BackendCase): Promise<Engine> {
  const e = await createEngine(c.options);
  open.push(e);
  return e;
}

// A webgpu test passes only if the GPU ran it: a device loss or WebGPU error
// would have moved the work to the fallback backend and recorded why.
afterEach(async () => {
  for (const e of open.splice(0)) {
    expect(e.info.gpuFailure, `${e.info.backend} fell back`).toBeUndefined();
    await e.close();
  }
});

/** Announces skipped tiers loudly so a green run never hides them. */
export function announceSkips(cases: BackendCase[]): void {
  for (const c of cases.filter((x) => !x.available)) {
    console.warn(`SKIPPED backend ${c.name}: ${c.why}`);
  }
}
