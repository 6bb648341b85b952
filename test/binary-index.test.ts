import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { BinaryIndex, createEngine, DsoError, hammingTopKReference } from '../src/index.js';
import { addonAvailable } from '../src/simd/addon.js';
import { errorCode } from './helpers/errors.js';
import { gaussian, randomBytes, rng } from './helpers/random.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-index-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The reference answer with labels: rows re-ordered by label, ties to the smaller label. */
function expected(codes: Uint8Array, labels: bigint[], queries: Uint8Array, dim: number, k: number, removed = new Set<bigint>()) {
  const B = Math.ceil(dim / 8);
  const order = labels
    .map((l, r) => ({ l, r }))
    .filter((x) => !removed.has(x.l))
    .sort((a, b) => (a.l < b.l ? -1 : 1));
  const sorted = new Uint8Array(order.length * B);
  order.forEach((x, i) => sorted.set(codes.subarray(x.r * B, x.r * B + B), i * B));
  const ref = hammingTopKReference(sorted, queries, dim, k);
  return {
    labels: BigInt64Array.from(Array.from(ref.ids, (id) => (id < 0 ? -1n : order[id].l))),
    distances: ref.distances,
  };
}

const cfgs = [
  { name: 'one thread, engine only', threads: 1, shardThreshold: 1 },
  { name: 'pool of 2 threads, many shards', threads: 2, shardThreshold: 1 },
];

describe.skipIf(!addonAvailable()).each(cfgs)('BinaryIndex ($name)', (cfg) => {
  it('matches the reference with default and custom labels, across shards, k > n padded', async () => {
    const dim = 100;
    const B = 13;
    const idx = new BinaryIndex({ dim, ...cfg });
    const c1 = randomBytes(5000 * B, 1);
    const c2 = randomBytes(4000 * B, 2);
    idx.add(c1);
    const custom = BigInt64Array.from({ length: 4000 }, (_, i) => 100_000n - BigInt(i) * 7n); // descending: forces a re-sort
    idx.add(c2, custom);
    expect(idx.size).toBe(9000);
    const all = new Uint8Array([...c1, ...c2]);
    const labels = [...Array.from({ length: 5000 }, (_, i) => BigInt(i)), ...custom];
    const q = randomBytes(9 * B, 3);
    expect(await idx.search(q, { k: 10 })).toEqual(expected(all, labels, q, dim, 10));
    const small = new BinaryIndex({ dim, ...cfg });
    small.add(c1.subarray(0, 3 * B));
    const padded = await small.search(q.subarray(0, B), { k: 5 });
    expect(Array.from(padded.labels.subarray(3))).toEqual([-1n, -1n]);
    await idx.close();
    await small.close();
  });

  it('breaks distance ties by the smaller label', async () => {
    const idx = new BinaryIndex({ dim: 16, ...cfg });
    idx.add(new Uint8Array(6 * 2), BigInt64Array.from([50n, 7n, 30n, -4n, 12n, 99n])); // identical codes
    const r = await idx.search(new Uint8Array(2), { k: 4 });
    expect(Array.from(r.labels)).toEqual([-4n, 7n, 12n, 30n]);
    await idx.close();
  });

  it('never returns removed rows, before and after compaction', async () => {
    const dim = 64;
    const idx = new BinaryIndex({ dim, ...cfg });
    const codes = randomBytes(6000 * 8, 4);
    idx.add(codes);
    const q = codes.slice(0, 4 * 8); // rows 0..3 are their own nearest
    const gone = new Set([0n, 1n, 2n, 3n, 17n, 4000n]);
    expect(idx.remove(BigInt64Array.from(gone))).toBe(6);
    expect(idx.remove(BigInt64Array.from([0n, 123456n]))).toBe(0);
    const labels = Array.from({ length: 6000 }, (_, i) => BigInt(i));
    expect(await idx.search(q, { k: 8 })).toEqual(expected(codes, labels, q, dim, 8, gone));
    const many = BigInt64Array.from({ length: 2000 }, (_, i) => BigInt(1000 + i));
    idx.remove(many); // past the compaction threshold
    for (const l of many) gone.add(l);
    expect(idx.size).toBe(6000 - gone.size);
    expect(await idx.search(q, { k: 8 })).toEqual(expected(codes, labels, q, dim, 8, gone));
    idx.add(codes.subarray(0, 8), BigInt64Array.from([17n])); // a removed label may come back
    gone.delete(17n);
    const back = await idx.search(codes.subarray(0, 8), { k: 1 });
    expect(back.distances[0]).toBe(0);
    await idx.close();
  });

  it('is safe under concurrency: a search sees the rows present when it started', async () => {
    const dim = 128;
    const idx = new BinaryIndex({ dim, ...cfg });
    const first = randomBytes(8000 * 16, 5);
    idx.add(first);
    const q = randomBytes(3 * 16, 6);
    const before = idx.search(q, { k: 5 });
    idx.add(new Uint8Array(100 * 16).fill(0)); // rows that would otherwise win
    idx.add(new Uint8Array(16), BigInt64Array.from([-1n])); // forces a re-sort (copy on write)
    const labels = Array.from({ length: 8000 }, (_, i) => BigInt(i));
    expect(await before).toEqual(expected(first, labels, q, dim, 5));
    const parallel = await Promise.all(
      Array.from({ length: 8 }, (_, i) => idx.search(q.subarray((i % 3) * 16, (i % 3) * 16 + 16), { k: 3 })),
    );
    for (let i = 0; i < 8; i++) expect(parallel[i]).toEqual(await idx.search(q.subarray((i % 3) * 16, (i % 3) * 16 + 16), { k: 3 }));
    await idx.close();
  });
});

describe.skipIf(!addonAvailable())('BinaryIndex sharded through its engine', () => {
  it('keeps the event loop live and batches concurrent callers into one dispatch', async () => {
    const dim = 256;
    const engine = await createEngine({ backend: 'native', threads: 2, shardRows: 1 });
    const idx = new BinaryIndex({ dim, engine });
    const codes = randomBytes(300_000 * 32, 16);
    idx.add(codes);
    await idx.search(codes.subarray(0, 32), { k: 1 }); // starts the pool
    const before = engine.stats();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const qs = Array.from({ length: 6 }, (_, i) => randomBytes(20 * 32, 30 + i));
    const results = await Promise.all(qs.map((q) => idx.search(q, { k: 4 })));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    const after = engine.stats();
    expect(after.shardBatches - before.shardBatches).toBe(1); // one batch of all six callers
    expect(after.shardTasks - before.shardTasks).toBe(2); // split into two shards
    expect(after.workerTiers).toEqual([`native/${engine.info.isa}${engine.info.vpopcntdq ? '+vpopcntdq' : ''}`]);
    qs.forEach((q, i) => {
      const ref = hammingTopKReference(codes, q, dim, 4);
      expect(Array.from(results[i].labels, Number)).toEqual(Array.from(ref.ids));
    });
    await idx.close();
    await engine.close();
  });

  it('refuses threads or shardThreshold beside an engine of its own', async () => {
    const engine = await createEngine({ backend: 'js' });
    expect(await errorCode(() => new BinaryIndex({ dim: 8, engine, threads: 2 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(() => new BinaryIndex({ dim: 8, engine, shardThreshold: 10 }))).toBe('INVALID_ARGUMENT');
    await engine.close();
  });
});

describe.skipIf(!addonAvailable())('BinaryIndex validation, rescoring and files', () => {
  it('rejects bad input with typed errors and keeps its state', async () => {
    const idx = new BinaryIndex({ dim: 16, threads: 1 });
    idx.add(new Uint8Array(4), BigInt64Array.from([1n, 2n]));
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as DsoError).code;
      }
      return 'no error';
    };
    expect(code(() => idx.add(new Uint8Array(3)))).toBe('LENGTH_MISMATCH');
    expect(code(() => idx.add(new Uint8Array(4), BigInt64Array.from([2n, 3n])))).toBe('DUPLICATE_LABEL');
    expect(code(() => idx.add(new Uint8Array(4), BigInt64Array.from([5n, 5n])))).toBe('DUPLICATE_LABEL');
    expect(code(() => idx.add(new Uint8Array(2), BigInt64Array.from([5n, 6n])))).toBe('LENGTH_MISMATCH');
    expect(code(() => new BinaryIndex({ dim: 0 }))).toBe('INVALID_DIM');
    expect(idx.size).toBe(2);
    const err = await idx.search(new Uint8Array(2), { k: 0 }).catch((e: unknown) => e);
    expect((err as DsoError).code).toBe('INVALID_K');
  });

  it('rescoring ranks candidates by cosine against stored vectors (and signs without them)', async () => {
    const dim = 64;
    const n = 3000;
    const vectors = gaussian(n * dim, 7);
    const codes = new Uint8Array(n * 8);
    for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) if (vectors[r * dim + j] > 0) codes[r * 8 + (j >> 3)] |= 1 << (j & 7);
    const withVectors = new BinaryIndex({ dim, threads: 1 });
    withVectors.add(codes, undefined, { vectors });
    const qv = gaussian(2 * dim, 8);
    const qc = new Uint8Array(2 * 8);
    for (let i = 0; i < 2 * dim; i++) if (qv[i] > 0) qc[(i >> 6) * 8 + ((i & 63) >> 3)] |= 1 << (i & 7);
    const r = await withVectors.search(qc, { k: 5, rescore: { vectors: qv, candidates: 50 } });
    const cand = await withVectors.search(qc, { k: 50 });
    for (let q = 0; q < 2; q++) {
      const cos = (row: number) => {
        let d = 0,
          a = 0,
          b = 0;
        for (let j = 0; j < dim; j++) {
          d += qv[q * dim + j] * vectors[row * dim + j];
          a += qv[q * dim + j] ** 2;
          b += vectors[row * dim + j] ** 2;
        }
        return d / Math.sqrt(a * b);
      };
      const best = Array.from(cand.labels.subarray(q * 50, q * 50 + 50), Number)
        .sort((x, y) => cos(y) - cos(x))
        .slice(0, 5);
      expect(Array.from(r.labels.subarray(q * 5, q * 5 + 5), Number)).toEqual(best);
      for (let j = 0; j < 5; j++) expect(r.scores![q * 5 + j]).toBeCloseTo(cos(best[j]), 5);
    }
    const signsOnly = new BinaryIndex({ dim, threads: 1 });
    signsOnly.add(codes);
    const s = await signsOnly.search(qc, { k: 5, rescore: { vectors: qv, candidates: 50 } });
    expect(s.scores!.every((v) => v >= -1 && v <= 1)).toBe(true);
  });

  it('saves and loads losslessly, and rejects truncated and altered files', async () => {
    const dim = 200;
    const idx = new BinaryIndex({ dim, threads: 1 });
    const codes = randomBytes(700 * 25, 9);
    idx.add(codes, undefined, { scales: gaussian(700, 10).map(Math.abs) });
    idx.remove(BigInt64Array.from([5n, 6n]));
    const file = path.join(dir, 'a.dso');
    await idx.save(file);
    const again = await BinaryIndex.load(file, { threads: 1 });
    expect(again.size).toBe(698);
    const q = randomBytes(4 * 25, 11);
    expect(await again.search(q, { k: 7 })).toEqual(await idx.search(q, { k: 7 }));
    const bytes = readFileSync(file);
    const cases: Array<[string, Buffer]> = [
      ['truncated', bytes.subarray(0, bytes.length - 100)],
      ['altered', Buffer.from(bytes).fill(0x5a, 500, 501)],
      ['not an index', Buffer.from('hello world, this is not an index file at all')],
    ];
    for (const [what, content] of cases) {
      const bad = path.join(dir, `${what}.dso`);
      writeFileSync(bad, content);
      const err = await BinaryIndex.load(bad).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(DsoError);
      expect((err as DsoError).code, what).toBe('CORRUPT_INDEX');
    }
    const missing = await BinaryIndex.load(path.join(dir, 'nope.dso')).catch((e: unknown) => e);
    expect((missing as DsoError).code).toBe('IO_ERROR');
  });

  it('loads with mmap without copying codes, in one thread and across the pool', async () => {
    const dim = 128;
    const codes = randomBytes(9000 * 16, 14);
    const src = new BinaryIndex({ dim, threads: 1 });
    src.add(
      codes,
      BigInt64Array.from({ length: 9000 }, (_, i) => BigInt(i * 3)),
    );
    const file = path.join(dir, 'mapped.dso');
    await src.save(file);
    const onDisk = readFileSync(file);
    const q = randomBytes(5 * 16, 15);
    const want = await src.search(q, { k: 6 });
    for (const threads of [1, 2]) {
      const m = await BinaryIndex.load(file, { mmap: true, threads, shardThreshold: 1 });
      expect(m.memoryUsage().mapped).toBe(onDisk.length);
      expect(m.memoryUsage().codes).toBe(0);
      expect(await m.search(q, { k: 6 })).toEqual(want);
      // Replacing the file by save (rename) leaves this mapping on the old contents.
      const other = new BinaryIndex({ dim, threads: 1 });
      other.add(new Uint8Array(16 * 10));
      await other.save(file);
      expect(await m.search(q, { k: 6 })).toEqual(want);
      await src.save(file);
      // The first change copies into memory; the file is never written through the mapping.
      m.add(new Uint8Array(16), BigInt64Array.from([1n]));
      m.remove(BigInt64Array.from([0n]));
      expect(m.memoryUsage().mapped).toBe(0);
      const after = await m.search(new Uint8Array(16), { k: 1 });
      expect(after.labels[0]).toBe(1n);
      expect(readFileSync(file).equals(onDisk)).toBe(true);
      await m.close();
    }
    writeFileSync(path.join(dir, 'mapped-bad.dso'), Buffer.from(onDisk).fill(1, 100, 101));
    const err = await BinaryIndex.load(path.join(dir, 'mapped-bad.dso'), { mmap: true }).catch((e: unknown) => e);
    expect((err as DsoError).code).toBe('CORRUPT_INDEX');
  });

  it('kill -9 during a save leaves the previous file intact', async () => {
    const file = path.join(dir, 'crash.dso');
    const idx = new BinaryIndex({ dim: 64, threads: 1 });
    idx.add(randomBytes(100 * 8, 12));
    await idx.save(file);
    const before = readFileSync(file);
    // A child saves a large index over the same path in a loop until it is killed.
    const script = `
      import { BinaryIndex } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      const idx = new BinaryIndex({ dim: 64, threads: 1 });
      idx.add(new Uint8Array(8 * 2_000_000).fill(7));
      console.log('ready');
      for (;;) await idx.save(${JSON.stringify(file)});`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 30 + Math.floor(rng(13)() * 50)));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const after = readFileSync(file);
    // Either the old index or a complete new one, never a torn file.
    if (after.length === before.length) expect(after.equals(before)).toBe(true);
    const loaded = await BinaryIndex.load(file, { threads: 1 });
    expect([100, 2_000_000]).toContain(loaded.size);
    // Exactly the old file or a complete new one: header + 2M x (8 code bytes + 8 label bytes) + trailer.
    expect([before.length, 32 + 2_000_000 * 16 + 8]).toContain(after.length);
  });
});
