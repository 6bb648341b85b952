/** One engine per native tier this machine runs, best first, plus the js reference. */
import { createEngine, type Engine } from '../../src/index.js';
import { loadAddon } from '../../src/simd/addon.js';

export interface Labeled {
  label: string;
  tierKey: string;
  engine: Engine;
}

export async function nativeEngines(opts: { withoutVpopcntdq: boolean }): Promise<Labeled[]> {
  const cpu = loadAddon().cpuInfo();
  const out: Labeled[] = [];
  for (const isa of [...cpu.available].reverse()) {
    out.push({ label: `dso native ${isa}`, tierKey: isa, engine: await createEngine({ backend: 'native', isa }) });
    if (isa === 'avx512' && cpu.features.vpopcntdq && opts.withoutVpopcntdq) {
      out.push({
        label: 'dso native avx512 (no vpopcntdq)',
        tierKey: 'avx512 (no vpopcntdq)',
        engine: await createEngine({ backend: 'native', isa, vpopcntdq: false }),
      });
    }
  }
  return out;
}

export const jsEngine = () => createEngine({ backend: 'js' });
