import os from 'node:os';

import { describe, expect, it } from 'vitest';

import { createEngine } from '../src/index.js';
import { addonAvailable, loadAddon } from '../src/simd/addon.js';

describe.skipIf(!addonAvailable())('dispatch', () => {
  it('compiles the tiers of this architecture and no others', () => {
    const cpu = loadAddon().cpuInfo();
    if (os.arch() === 'x64') expect(cpu.compiled).toEqual(['serial', 'avx2', 'avx512']);
    if (os.arch() === 'arm64') expect(cpu.compiled).toEqual(['serial', 'neon']);
    expect(cpu.available[0]).toBe('serial');
    expect(cpu.best).toBe(cpu.available[cpu.available.length - 1]);
    for (const t of cpu.available) expect(cpu.compiled).toContain(t);
  });

  it('runs the best tier by default and reports what runs', async () => {
    const cpu = loadAddon().cpuInfo();
    const e = await createEngine({ backend: 'native' });
    expect(e.info).toMatchObject({ backend: 'native', isa: cpu.best, vpopcntdq: cpu.best === 'avx512' && cpu.features.vpopcntdq });
    const auto = await createEngine();
    expect(auto.info.backend).toBe('native');
  });

  it('forced tiers are reported as forced', async () => {
    for (const isa of loadAddon().cpuInfo().available) {
      const e = await createEngine({ backend: 'native', isa });
      expect(e.info.isa).toBe(isa);
    }
    const js = await createEngine({ backend: 'js' });
    expect(js.info).toMatchObject({ backend: 'js', isa: 'js' });
  });
});
