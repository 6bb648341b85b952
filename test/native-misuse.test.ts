/**
 * Misuse that must end in a typed error or a documented outcome, never in a
 * crash: terminated worker threads, inputs transferred or rewritten under a
 * pending call, result sizes beyond memory. The hazardous cases run in a
 * child process, so a crash fails the test instead of ending the runner.
 */
import { spawn } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { MAX_RESULTS } from '../src/core/checks.js';
import { BinaryIndex } from '../src/index.js';
import { addonAvailable, loadAddon } from '../src/simd/addon.js';
import { announceSkips, backendCases, engineFor } from './helpers/backends.js';
import { errorCode } from './helpers/errors.js';

function runChild(...args: string[]): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/helpers/native-misuse-child.ts', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('exit', (status, signal) => resolve({ status, signal, stdout }));
  });
}

describe.skipIf(!addonAvailable())('native calls under misuse', () => {
  it.each([
    ['terminate', 'worker threads terminated during async calls'],
    ['transfer', 'inputs and outputs transferred away and collected while their async call runs'],
    ['shared-rows', 'cosine row indices rewritten by another thread after their check'],
  ])(
    '%s: the process survives %s',
    async (mode) => {
      const r = await runChild(mode);
      expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
      expect(r.stdout).toContain('survived');
    },
    120_000,
  );

  it('refuses result sizes beyond MAX_RESULTS on the addon itself', async () => {
    const addon = loadAddon();
    const base = new Uint8Array(48 * 4);
    expect(await errorCode(() => addon.hammingTopK(base, base.subarray(0, 48), 384, 2 ** 31 - 1))).toBe('TOO_LARGE');
    expect(await errorCode(() => addon.hammingTopK(base, base.subarray(0, 96), 384, MAX_RESULTS / 2 + 1))).toBe('TOO_LARGE');
  });
});

const cases = backendCases();
announceSkips(cases);

describe.each(cases)('result size bounds on $name', (c) => {
  it.skipIf(!c.available)('k = 2^31 - 1, or nq x k past MAX_RESULTS, is TOO_LARGE; k beyond n is padded', async () => {
    const e = await engineFor(c);
    const base = new Uint8Array(48 * 4);
    expect(await errorCode(e.hammingTopK(base, base.subarray(0, 48), { dim: 384, k: 2 ** 31 - 1 }))).toBe('TOO_LARGE');
    expect(await errorCode(e.hammingTopK(base, base, { dim: 384, k: MAX_RESULTS / 4 + 1 }))).toBe('TOO_LARGE');
    const r = await e.hammingTopK(base, base.subarray(0, 96), { dim: 384, k: 1000 });
    expect(r.ids.length).toBe(2000);
    for (let q = 0; q < 2; q++) {
      expect(Array.from(r.ids.subarray(q * 1000, q * 1000 + 4))).toEqual([0, 1, 2, 3]);
      expect(r.ids.subarray(q * 1000 + 4, (q + 1) * 1000).every((v) => v === -1)).toBe(true);
      expect(r.distances.subarray(q * 1000 + 4, (q + 1) * 1000).every((v) => v === -1)).toBe(true);
    }
  });
});

describe.skipIf(!addonAvailable())('a search with k far beyond n', () => {
  it.each(['js', 'native'])(
    'costs memory for its result, not for k per shard (%s, sharded)',
    async (backend) => {
      const r = await runChild('wide-k', backend);
      expect(r.status).toBe(0);
      const m = JSON.parse(r.stdout.split('\n')[0]) as { grewMiB: number; resultMiB: number };
      expect(m.resultMiB).toBe(128);
      // Before: each shard padded to k, then a merge and a copy per caller (about 6x the result).
      expect(m.grewMiB).toBeLessThan(2 * m.resultMiB);
    },
    120_000,
  );

  it('BinaryIndex refuses k past MAX_RESULTS', async () => {
    const index = new BinaryIndex({ dim: 64, threads: 1 });
    index.add(new Uint8Array(80));
    expect(await errorCode(index.search(new Uint8Array(8), { k: 2 ** 31 - 1 }))).toBe('TOO_LARGE');
    expect(
      await errorCode(index.search(new Uint8Array(16), { k: 2, rescore: { vectors: new Float32Array(128), candidates: MAX_RESULTS } })),
    ).toBe('TOO_LARGE');
    await index.close();
  });
});
