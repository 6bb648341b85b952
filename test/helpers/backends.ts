/**
 * Every backend configuration the shared kernel suites run on: the js
 * reference, then each native tier compiled in (forced down the dispatch
 * ladder), and the AVX-512 Hamming kernel with and without VPOPCNTDQ. A tier
 * this machine cannot run is listed as skipped by name, never dropped.
 */
import { createEngine, type Engine, type EngineOptions } from '../../src/index.js';
import { addonAvailable, loadAddon } from '../../src/simd/addon.js';

export interface BackendCase {
  name: string;
  options: EngineOptions;
  available: boolean;
  why?: string;
}

export function backendCases(): BackendCase[] {
  const cases: BackendCase[] = [{ name: 'js', options: { backend: 'js' }, available: true }];
  if (!addonAvailable()) {
    cases.push({ name: 'native', options: { backend: 'native' }, available: false, why: 'addon not built' });
    return cases;
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
  return cases;
}

export async function engineFor(c: BackendCase): Promise<Engine> {
  return createEngine(c.options);
}

/** Announces skipped tiers loudly so a green run never hides them. */
export function announceSkips(cases: BackendCase[]): void {
  for (const c of cases.filter((x) => !x.available)) {
    console.warn(`SKIPPED backend ${c.name}: ${c.why}`);
  }
}
