/**
 * The package root is the engine alone: a process that imports it and runs
 * the engine, the index, the quantizer and the aggregators loads the engine's
 * addon and no SQLite, EVM, libp2p or HTTP code. The DSO layers come from
 * their subpaths.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { addonAvailable } from '../src/simd/addon.js';

/**
 * Runs the import probe on `entry`; `use`, the body of an async function of
 * the imported module `m`, goes to the probe as a module file it imports.
 */
function probe(entry: string, use = ''): { packages: string[]; natives: string[] } {
  const args = ['--import', 'tsx', path.join('test', 'helpers', 'import-probe.mjs'), path.resolve(entry)];
  const dir = use === '' ? undefined : mkdtempSync(path.join(os.tmpdir(), 'dso-probe-'));
  try {
    if (dir !== undefined) {
      const file = path.join(dir, 'use.mjs');
      writeFileSync(file, `export default async function (m) {${use}\n}\n`);
      args.push(file);
    }
    const out = execFileSync(process.execPath, args, { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop()!) as { packages: string[]; natives: string[] };
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

const DSO_LAYER_PACKAGES =
  /^(better-sqlite3|libp2p|@libp2p\/|@chainsafe\/|hardhat|@nomicfoundation\/|viem|fastify|blockstore-|@huggingface\/|zod|smol-toml|prom-client)/;

describe('entry points', () => {
  it.skipIf(!addonAvailable())('the root loads the engine addon and nothing of the DSO layers', () => {
    const use = `
      const e = await m.createEngine({ backend: 'native' });
      const x = new Float32Array(64 * 40).map((_, i) => Math.sin(i));
      const { codes, scales } = await e.quantize(x, { dim: 64 });
      const index = new m.BinaryIndex({ dim: 64, engine: e });
      index.add(codes);
      await index.search(codes.subarray(0, 8), { k: 2 });
      await new m.BitDeltaQuantizer({ engine: e }).quantizeDelta(x.subarray(0, 64));
      const layer = (i) => ({ l: { dim: 64, code: codes.subarray(i * 8, i * 8 + 8), scales: scales.subarray(i, i + 1) } });
      await m.aggregateCommunityDeltas([layer(0), layer(1), layer(2)], { engine: e });
      await e.close();`;
    const { packages, natives } = probe('src/index.ts', use);
    expect(packages.filter((p) => DSO_LAYER_PACKAGES.test(p))).toEqual([]);
    expect(natives.map((f) => path.basename(f))).toEqual(['dso_native.node']);
  });

  it('the experience subpath is where SQLite comes in, the network subpath where libp2p and viem do', () => {
    expect(probe('src/experience/index.ts').packages).toContain('better-sqlite3');
    const network = probe('src/network/index.ts').packages;
    expect(network).toContain('libp2p');
    expect(network).toContain('viem');
  });

  it('every subpath exports what the README imports from it', async () => {
    const experience = await import('../src/experience/index.js');
    const aso = await import('../src/aso/index.js');
    const network = await import('../src/network/index.js');
    const node = await import('../src/node/index.js');
    expect(typeof experience.ExperienceLibrary.open).toBe('function');
    expect(typeof aso.ActiveSemanticOptimizer).toBe('function');
    expect(typeof network.NetworkDSOAggregator).toBe('function');
    expect(typeof node.DsoNode.start).toBe('function');
  });
});
