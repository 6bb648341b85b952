import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { createEngine, DsoError, hammingTopKReference, medianReference } from '../src/index.js';
import { autoBackend } from '../src/engine/auto-backend.js';
import { NEVER } from '../src/engine/crossover.js';
import { nativeBackend } from '../src/engine/native-backend.js';
import { webgpuBackend } from '../src/engine/webgpu-backend.js';
import { addonAvailable } from '../src/simd/addon.js';
import { gpuUnavailable } from './helpers/backends.js';
import { gaussian, randomBytes } from './helpers/random.js';

if (gpuUnavailable) console.warn(`SKIPPED webgpu tests: no WebGPU adapter (${gpuUnavailable})`);

describe.skipIf(gpuUnavailable !== undefined)('webgpu backend', () => {
  it('reports the adapter it runs on', async () => {
    const e = await createEngine({ backend: 'webgpu' });
    expect(e.info.backend).toBe('webgpu');
    expect(e.info.adapter?.description.length).toBeGreaterThan(0);
    expect(typeof e.info.adapter?.software).toBe('boolean');
    await e.close();
  });

  it('searches resident codes many times without uploading them again', async () => {
    const e = await createEngine({ backend: 'webgpu', gpu: { maxBindingBytes: 1 << 16 } });
    const dim = 200;
    const base = randomBytes(9000 * 25, 3);
    const resident = await e.uploadCodes(base, { dim });
    expect(resident.n).toBe(9000);
    for (let i = 0; i < 3; i++) {
      const q = randomBytes(5 * 25, 10 + i);
      expect(await e.hammingTopK(resident, q, { dim, k: 7 })).toEqual(hammingTopKReference(base, q, dim, 7));
    }
    const err = await e.hammingTopK(resident, randomBytes(16, 1), { dim: 128, k: 1 }).catch((x: unknown) => x);
    expect((err as DsoError).code).toBe('DIM_MISMATCH');
    resident.release();
    const gone = await e.hammingTopK(resident, randomBytes(25, 1), { dim, k: 1 }).catch((x: unknown) => x);
    expect((gone as DsoError).code).toBe('INVALID_ARGUMENT');
    expect(e.info.gpuFailure).toBeUndefined();
    await e.close();
  });

  it.skipIf(!addonAvailable())('falls back to native after the device is lost, instead of hanging', async () => {
    const b = await webgpuBackend(nativeBackend({}));
    const rows = gaussian(9 * 33, 4);
    expect(await b.median(rows, 9)).toEqual(medianReference(rows, 9));
    b.gpu.ctx.device.destroy();
    await b.gpu.ctx.device.lost;
    expect(b.info.gpuFailure).toMatch(/device lost/);
    expect(await b.median(rows, 9)).toEqual(medianReference(rows, 9));
    const base = randomBytes(100 * 8, 5);
    const q = randomBytes(2 * 8, 6);
    expect(await b.hammingTopK(base, q, 64, 3)).toEqual(hammingTopKReference(base, q, 64, 3));
  });

  it('lets the process exit with an engine open or closed', () => {
    for (const close of [false, true]) {
      const script = `
        import { createEngine } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
        const e = await createEngine({ backend: 'webgpu' });
        await e.median(new Float32Array([1, 2, 3, 4]), { n: 2 });
        ${close ? 'await e.close();' : ''}
        console.log('done');`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stdout, r.stderr).toContain('done');
      expect(r.status, `close=${close}: ${r.stderr}`).toBe(0);
    }
  });
});

describe.skipIf(gpuUnavailable !== undefined || !addonAvailable())("backend 'auto'", () => {
  it('never opens a software adapter for work, and measures the crossover where allowed', async () => {
    const host = nativeBackend({});
    const plain = autoBackend(host);
    const big = gaussian(64 * 8192, 7);
    expect(await plain.median(big, 64)).toEqual(medianReference(big, 64));
    expect(await plain.crossover()).toEqual(NEVER);

    const measured = autoBackend(host, { allowSoftware: true });
    expect(await measured.median(big, 64)).toEqual(medianReference(big, 64));
    const crossover = await measured.crossover();
    for (const v of Object.values(crossover)) expect(v === Infinity || v > 0).toBe(true);
    expect(measured.info.adapter?.software).toBe(true);
    await measured.close?.();
  });
});
