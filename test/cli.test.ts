import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { findPython } from '../bench/peers/python.js';
import { BinaryIndex, hammingTopKReference, packReference } from '../src/index.js';
import { addonAvailable } from '../src/simd/addon.js';
import { gpuUnavailable } from './helpers/backends.js';
import { gaussian } from './helpers/random.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function dso(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** A version-1 .npy of float32 rows, written by hand (numpy's own writer is used where python has it). */
function writeNpy(file: string, x: Float32Array, rows: number, cols: number) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  header = header.padEnd(Math.ceil((10 + header.length + 1) / 64) * 64 - 10 - 1) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre.writeUInt16LE(header.length, 8);
  writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(x.buffer, x.byteOffset, x.byteLength)]));
}

function writeFvecs(file: string, x: Float32Array, rows: number, cols: number) {
  const buf = Buffer.alloc(rows * (4 + cols * 4));
  for (let r = 0; r < rows; r++) {
    buf.writeInt32LE(cols, r * (4 + cols * 4));
    for (let j = 0; j < cols; j++) buf.writeFloatLE(x[r * cols + j], r * (4 + cols * 4) + 4 + 4 * j);
  }
  writeFileSync(file, buf);
}

describe.skipIf(!addonAvailable())('dso index build / search', () => {
  const rows = 3000;
  const dim = 72;
  const x = gaussian(rows * dim, 41);
  const codes = packReference(x, { rows, dim, groupSize: dim, groups: 1, bytesPerRow: 9 }).codes;
  const qx = gaussian(4 * dim, 42);
  const qcodes = packReference(qx, { rows: 4, dim, groupSize: dim, groups: 1, bytesPerRow: 9 }).codes;
  const want = hammingTopKReference(codes, qcodes, dim, 5);

  it('builds the same index from .npy, .fvecs, .f32 and packed codes, and searches it', async () => {
    const inputs: Array<[string, string[]]> = [];
    writeNpy(path.join(dir, 'x.npy'), x, rows, dim);
    inputs.push(['x.npy', []]);
    writeFvecs(path.join(dir, 'x.fvecs'), x, rows, dim);
    inputs.push(['x.fvecs', []]);
    writeFileSync(path.join(dir, 'x.f32'), x);
    inputs.push(['x.f32', ['--dim', String(dim)]]);
    writeFileSync(path.join(dir, 'x.codes'), codes);
    inputs.push(['x.codes', ['--dim', String(dim)]]);
    const py = findPython();
    if (py) {
      const r = spawnSync(py, [
        '-c',
        `import numpy as np; np.save(${JSON.stringify(path.join(dir, 'np.npy'))}, np.fromfile(${JSON.stringify(path.join(dir, 'x.f32'))}, dtype='<f4').reshape(${rows}, ${dim}))`,
      ]);
      expect(r.status).toBe(0);
      inputs.push(['np.npy', []]);
    } else {
      console.warn('SKIPPED numpy-written .npy input: no python3 with numpy');
    }
    writeNpy(path.join(dir, 'q.npy'), qx, 4, dim);
    for (const [input, extra] of inputs) {
      const out = path.join(dir, `${input}.dso`);
      const b = dso('index', 'build', '--input', path.join(dir, input), '--out', out, ...extra);
      expect(b.status, b.stderr).toBe(0);
      expect(b.stdout).toContain(`${rows} rows`);
      const loaded = await BinaryIndex.load(out, { threads: 1 });
      expect(loaded.size).toBe(rows);
      const s = dso('index', 'search', '--index', out, '--queries', path.join(dir, 'q.npy'), '--k', '5', '--json');
      expect(s.status, s.stderr).toBe(0);
      const res = (JSON.parse(s.stdout) as { results: Array<{ labels: number[]; distances: number[] }> }).results;
      expect(
        res.flatMap((r) => r.labels),
        input,
      ).toEqual(Array.from(want.ids));
      expect(res.flatMap((r) => r.distances)).toEqual(Array.from(want.distances));
    }
    const text = dso('index', 'search', '--index', path.join(dir, 'x.npy.dso'), '--queries', path.join(dir, 'q.npy'), '--k', '2');
    const lines = text.stdout.split('\n').map((l) => l.trim().split(/\s+/u));
    expect(lines[0]).toEqual(['query', 'rank', 'label', 'distance']);
    expect(lines[1]).toEqual(['0', '1', String(want.ids[0]), String(want.distances[0])]);
    expect(lines[2]).toEqual(['0', '2', String(want.ids[1]), String(want.distances[1])]);
    expect(text.stdout).toMatch(/\d+ queries in [\d.]+ s \([\d,∞]+ queries\/s\) over [\d,]+ rows, top 2/u);
  });

  it.skipIf(gpuUnavailable !== undefined)('searches on the webgpu backend (rows resident on the GPU) with the same results', () => {
    const out = path.join(dir, 'x.npy.dso');
    const s = dso(
      'index',
      'search',
      '--index',
      out,
      '--queries',
      path.join(dir, 'q.npy'),
      '--k',
      '5',
      '--json',
      '--backend',
      'webgpu',
      '--verbose',
    );
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr).toContain('engine: webgpu');
    const res = (JSON.parse(s.stdout) as { results: Array<{ labels: number[]; distances: number[] }> }).results;
    expect(res.flatMap((r) => r.labels)).toEqual(Array.from(want.ids));
    expect(res.flatMap((r) => r.distances)).toEqual(Array.from(want.distances));
  });

  it('rescores with kept vectors and centres byte vectors', () => {
    const out = path.join(dir, 'kept.dso');
    expect(dso('index', 'build', '--input', path.join(dir, 'x.npy'), '--out', out, '--keep-vectors').status).toBe(0);
    const s = dso('index', 'search', '--index', out, '--queries', path.join(dir, 'q.npy'), '--k', '3', '--rescore', '50', '--json');
    expect(s.status, s.stderr).toBe(0);
    const res = (JSON.parse(s.stdout) as { results: Array<{ scores: number[] }> }).results;
    expect(res[0].scores.length).toBe(3);
    expect(res[0].scores[0]).toBeGreaterThanOrEqual(res[0].scores[2]);
    const bvecs = Buffer.alloc(500 * (4 + 16));
    for (let r = 0; r < 500; r++) {
      bvecs.writeInt32LE(16, r * 20);
      for (let j = 0; j < 16; j++) bvecs[r * 20 + 4 + j] = (r * 31 + j * 17) % 256;
    }
    writeFileSync(path.join(dir, 'x.bvecs'), bvecs);
    const b = dso('index', 'build', '--input', path.join(dir, 'x.bvecs'), '--out', path.join(dir, 'b.dso'));
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toContain('(centred)');
  });

  it('reports bad input with a code and a non-zero exit, writing no index', () => {
    writeFileSync(path.join(dir, 'bad.fvecs'), Buffer.alloc(4 + 4 * 5 + 3));
    const cases: Array<[string[], string]> = [
      [['index', 'build', '--input', path.join(dir, 'bad.fvecs'), '--out', path.join(dir, 'bad.dso')], 'INVALID_ARGUMENT'],
      [['index', 'build', '--input', path.join(dir, 'x.f32'), '--out', path.join(dir, 'bad.dso')], 'INVALID_ARGUMENT'],
      [['index', 'build', '--input', path.join(dir, 'x.npy'), '--out', path.join(dir, 'bad.dso'), '--dim', '70'], 'DIM_MISMATCH'],
      [['index', 'build', '--input', path.join(dir, 'missing.npy'), '--out', path.join(dir, 'bad.dso')], 'IO_ERROR'],
      [['index', 'search', '--index', path.join(dir, 'x.f32'), '--queries', path.join(dir, 'q.npy')], 'CORRUPT_INDEX'],
    ];
    for (const [args, codeWanted] of cases) {
      const r = dso(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`dso: ${codeWanted}:`);
    }
    expect(spawnSync('ls', [path.join(dir, 'bad.dso')]).status).not.toBe(0);
  });
});
