/**
 * BinaryIndex workloads (issue 4): 1,000,000 x 384-bit codes searched on the
 * worker pool (batch of 1,000 and one query at a time), beside FAISS
 * IndexBinaryFlat on the same threads and a plain scalar C loop; rescoring
 * overhead; building a large index from float vectors (streamed in batches;
 * data generation not timed) with its memory against codes + labels.
 */
import { rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BinaryIndex, createEngine, type Engine } from '../../src/index.js';
import { bytes, floats } from '../lib/data.js';
import type { Machine } from '../lib/machine.js';
import { measure } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { runPlainLoop } from '../peers/plain-loop.js';

export interface IndexSizes {
  n: number;
  batch: number;
  buildRows: number;
  threads: number;
}

const DIM = 384;
const B = DIM / 8;

/** W4 batch (one thread, then all) and single query over S.n rows; the sharded index stays open for the caller. */
async function searchRows(m: Machine, S: IndexSizes, base: Uint8Array, queries: Uint8Array): Promise<{ rows: Row[]; index: BinaryIndex }> {
  const dim = DIM;
  const out: Row[] = [];
  const t = S.threads;
  const size = `${S.n} x ${dim} bits`;
  const oneThread = new BinaryIndex({ dim, threads: 1 });
  oneThread.add(base);
  const t1 = await measure('index batch 1 thread', () => oneThread.search(queries, { k: 10 }));
  out.push({
    workload: 'W4 index batch',
    impl: 'BinaryIndex, 1 thread',
    size: `${size}, ${S.batch} queries`,
    seconds: t1.seconds,
    rme: t1.rme,
    throughput: S.batch / t1.seconds,
    unit: 'q/s',
    note: 'the scaling baseline',
  });
  await oneThread.close();
  const index = new BinaryIndex({ dim, threads: t, shardThreshold: 1 });
  index.add(base);
  const limitPairs = (m.xorPopcountWordsPerSec[m.tiers[m.tiers.length - 1]] * t) / 6;
  const tb = await measure('index batch', () => index.search(queries, { k: 10 }));
  out.push({
    workload: 'W4 index batch',
    impl: `BinaryIndex, ${t} threads`,
    size: `${size}, ${S.batch} queries`,
    seconds: tb.seconds,
    rme: tb.rme,
    throughput: S.batch / tb.seconds,
    unit: 'q/s',
    ofLimit: (S.batch * S.n) / tb.seconds / limitPairs,
    limit: `xor+popcnt x${t}`,
    note: `${(t1.seconds / tb.seconds).toFixed(2)}x one thread`,
  });
  let qi = 0;
  const ts = await measure('index single', () => {
    const q = queries.subarray((qi % 50) * B, (qi % 50) * B + B);
    qi++;
    return index.search(q, { k: 10 });
  });
  out.push({
    workload: 'W4 index single',
    impl: `BinaryIndex, ${t} threads`,
    size,
    seconds: ts.seconds,
    rme: ts.rme,
    throughput: 1 / ts.seconds,
    unit: 'q/s',
    note: `${(base.byteLength / 1e9 / ts.seconds).toFixed(1)} GB/s of codes`,
  });

  return { rows: out, index };
}

/** W4 rescore: 100 candidates per query ranked by cosine against stored float vectors. */
async function rescoreRows(S: IndexSizes, engine: Engine): Promise<Row[]> {
  const dim = DIM;
  const t = S.threads;
  const out: Row[] = [];
  const rn = S.n;
  const vecs = floats(rn * dim, 23);
  const q = await engine.quantize(vecs, { dim });
  const withVectors = new BinaryIndex({ dim, threads: t, shardThreshold: 1 });
  withVectors.add(q.codes, undefined, { vectors: vecs });
  const qv = floats(S.batch * dim, 24);
  const qc = (await engine.quantize(qv, { dim })).codes;
  const plain = await measure('rescore off', () => withVectors.search(qc, { k: 10 }));
  const rescored = await measure('rescore on', () => withVectors.search(qc, { k: 10, rescore: { vectors: qv, candidates: 100 } }));
  out.push({
    workload: 'W4 index rescore',
    impl: `BinaryIndex, ${t} threads, 100 candidates`,
    size: `${rn} rows, ${S.batch} queries`,
    seconds: rescored.seconds,
    throughput: S.batch / rescored.seconds,
    unit: 'q/s',
    note: `+${(((rescored.seconds - plain.seconds) / plain.seconds) * 100).toFixed(0)}% over the same search without rescoring`,
  });
  await withVectors.close();

  return out;
}

/** W4 build from float vectors streamed in batches, search over the large index, then its save and load. */
async function buildRows(m: Machine, S: IndexSizes, engine: Engine, queries: Uint8Array): Promise<Row[]> {
  const dim = DIM;
  const t = S.threads;
  const out: Row[] = [];
  // Generation is not timed.
  const batch = 100_000;
  const chunk = floats(batch * dim, 25);
  const built = new BinaryIndex({ dim, threads: t });
  let buildSeconds = 0;
  for (let r0 = 0; r0 < S.buildRows; r0 += batch) {
    chunk[r0 % chunk.length] += 1; // a different batch each time, at no generation cost
    const t0 = performance.now();
    const c = await engine.quantize(chunk, { dim });
    built.add(c.codes);
    buildSeconds += (performance.now() - t0) / 1000;
  }
  const mem = built.memoryUsage();
  const ideal = S.buildRows * (B + 8);
  out.push({
    workload: 'W4 index build',
    impl: 'quantize + add, streamed',
    size: `${S.buildRows} x ${dim} f32`,
    seconds: buildSeconds,
    throughput: S.buildRows / buildSeconds / 1e6,
    unit: 'M rows/s',
    note: `index memory ${(mem.total / 2 ** 20).toFixed(0)} MiB = ${(mem.total / ideal).toFixed(2)}x codes + labels`,
  });
  // Search over the large index (rows scale 10x from W4 single), then save and load it.
  const one = queries.subarray(0, B);
  const tl = await measure('large single', () => built.search(one, { k: 10 }));
  out.push({
    workload: 'W4 index single',
    impl: `BinaryIndex, ${t} threads`,
    size: `${S.buildRows} x ${dim} bits`,
    seconds: tl.seconds,
    throughput: 1 / tl.seconds,
    unit: 'q/s',
    note: `${((S.buildRows * B) / 1e9 / tl.seconds).toFixed(1)} GB/s of codes`,
  });
  const file = path.join(os.tmpdir(), `dso-idx-${process.pid}.dso`);
  const t0 = performance.now();
  await built.save(file);
  const saveSeconds = (performance.now() - t0) / 1000;
  const fileBytes = statSync(file).size;
  for (const mmap of [false, true]) {
    const t1 = performance.now();
    const loaded = await BinaryIndex.load(file, { mmap, threads: t });
    const secs = (performance.now() - t1) / 1000;
    out.push({
      workload: 'W4 index load',
      impl: mmap ? 'load({ mmap: true })' : 'load (read into memory)',
      size: `${(fileBytes / 2 ** 20).toFixed(0)} MiB file`,
      seconds: secs,
      throughput: fileBytes / 1e9 / secs,
      unit: 'GB/s',
      ofLimit: fileBytes / 1e9 / secs / m.streamReadGBs,
      limit: 'stream',
      note: `${mmap ? 'checksum pass over the mapping' : 'read + checksum'}; from the page cache; save took ${saveSeconds.toFixed(2)} s (fsync)`,
    });
    await loaded.close();
  }
  rmSync(file, { force: true });
  await built.close();
  return out;
}

/** The plain scalar C loop over the same files, the peer every kernel is compared with. */
function plainLoopRow(S: IndexSizes, files: { base: string; queries: string }): Row {
  const t = S.threads;
  const size = `${S.n} x ${DIM} bits`;
  const plainLoop = runPlainLoop(files.base, files.queries, B, 10, t);
  if (typeof plainLoop === 'number') {
    return {
      workload: 'W4 index batch',
      impl: `plain scalar C loop (popcnt, ${t} threads)`,
      size: `${size}, ${S.batch} queries`,
      seconds: plainLoop,
      throughput: S.batch / plainLoop,
      unit: 'q/s',
    };
  }
  return {
    workload: 'W4 index batch',
    impl: 'plain scalar C loop',
    size,
    seconds: NaN,
    throughput: NaN,
    unit: 'q/s',
    note: plainLoop.error,
  };
}

export async function indexWorkload(m: Machine, S: IndexSizes): Promise<{ rows: Row[]; peerFiles: { base: string; queries: string } }> {
  const base = bytes(S.n * B, 21);
  const queries = bytes(S.batch * B, 22);
  const files = {
    base: path.join(os.tmpdir(), `dso-idx-base-${process.pid}.u8`),
    queries: path.join(os.tmpdir(), `dso-idx-q-${process.pid}.u8`),
  };
  writeFileSync(files.base, base);
  writeFileSync(files.queries, queries);
  const search = await searchRows(m, S, base, queries);
  const engine = await createEngine({ backend: 'native' });
  try {
    const rows = [...search.rows, ...(await rescoreRows(S, engine)), ...(await buildRows(m, S, engine, queries))];
    return { rows: [...rows, plainLoopRow(S, files)], peerFiles: files };
  } finally {
    await search.index.close();
    await engine.close();
  }
}
