/**
 * W2: exact top-10 over 1,000,000 x 384-bit codes; a batch of queries and
 * one query at a time. Peers: FAISS IndexBinaryFlat and numpy (python, same
 * codes), SimSIMD and USearch (npm).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { hammingTopKReference } from '../../src/index.js';
import { bytes } from '../lib/data.js';
import type { Machine } from '../lib/machine.js';
import { measure } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { simsimdTopK, unpackBits, usearchIndex } from '../peers/npm.js';
import { jsEngine, nativeEngines } from './engines.js';

export interface HammingData {
  dim: number;
  n: number;
  k: number;
  base: Uint8Array;
  queries: Uint8Array;
  batchQueries: number;
  singleQueries: number;
  files: { base: string; queries: string };
}

export function hammingData(n: number, batchQueries: number, dim = 384, k = 10): HammingData {
  const B = Math.ceil(dim / 8);
  const base = bytes(n * B, 2);
  const queries = bytes(batchQueries * B, 3);
  const dir = os.tmpdir();
  const files = { base: path.join(dir, `dso-bench-base-${process.pid}.u8`), queries: path.join(dir, `dso-bench-q-${process.pid}.u8`) };
  writeFileSync(files.base, base);
  writeFileSync(files.queries, queries);
  return { dim, n, k, base, queries, batchQueries, singleQueries: 20, files };
}

export async function hammingWorkload(m: Machine, d: HammingData): Promise<{ rows: Row[]; distances: Int32Array }> {
  const out: Row[] = [];
  const B = Math.ceil(d.dim / 8);
  const words = Math.ceil(B / 8);
  const size = `${d.n} x ${d.dim} bits`;
  let distances: Int32Array = new Int32Array(0);
  for (const { label, engine, tierKey } of await nativeEngines({ withoutVpopcntdq: true })) {
    // The serial tier is slow; a smaller batch gives the same per-query rate.
    const nq = tierKey === 'serial' ? Math.min(50, d.batchQueries) : d.batchQueries;
    const batch = d.queries.subarray(0, nq * B);
    let res: { distances: Int32Array } = { distances: new Int32Array(0) };
    const tb = await measure(`${label} batch`, async () => {
      res = await engine.hammingTopK(d.base, batch, { dim: d.dim, k: d.k });
    });
    if (nq === d.batchQueries && distances.length === 0) distances = res.distances;
    const pairsPerSec = (nq * d.n) / tb.seconds;
    const limitPairs = (m.xorPopcountWordsPerSec[tierKey] ?? NaN) / words;
    out.push({
      workload: 'W2 batch',
      impl: label,
      size: `${size}, ${nq} queries`,
      seconds: tb.seconds,
      rme: tb.rme,
      throughput: nq / tb.seconds,
      unit: 'q/s',
      ofLimit: pairsPerSec / limitPairs,
      limit: 'xor+popcnt',
    });
    let qi = 0;
    const ts = await measure(`${label} single`, () => {
      const q = d.queries.subarray((qi % d.singleQueries) * B, (qi % d.singleQueries) * B + B);
      qi++;
      return engine.hammingTopK(d.base, q, { dim: d.dim, k: d.k });
    });
    out.push({
      workload: 'W2 single',
      impl: label,
      size,
      seconds: ts.seconds,
      rme: ts.rme,
      throughput: 1 / ts.seconds,
      unit: 'q/s',
      ofLimit: d.base.byteLength / ts.seconds / 1e9 / m.streamReadGBs,
      limit: 'stream',
    });
  }

  const js = await jsEngine();
  const q0 = d.queries.subarray(0, B);
  const tj = await measure('js single', () => js.hammingTopK(d.base, q0, { dim: d.dim, k: d.k }), { maxTime: 0.5 });
  out.push({ workload: 'W2 single', impl: 'dso js (reference)', size, seconds: tj.seconds, throughput: 1 / tj.seconds, unit: 'q/s' });

  // SimSIMD: one distance per JS call; a 100k-row scan, scaled to the full base.
  const simRows = Math.min(d.n, 100_000);
  const views = Array.from({ length: simRows }, (_, r) => d.base.subarray(r * B, r * B + B));
  const tsim = await measure('simsimd', () => simsimdTopK(views, q0, d.k), { maxTime: 0.5 });
  const simPerQuery = (tsim.seconds * d.n) / simRows;
  out.push({
    workload: 'W2 single',
    impl: 'SimSIMD hamming() per row (npm)',
    size: `${simRows} rows, scaled`,
    seconds: simPerQuery,
    throughput: 1 / simPerQuery,
    unit: 'q/s',
    note: 'one JS call per distance',
  });

  // USearch: HNSW over b1 vectors (no exact binary search in its JS binding).
  const usRows = Math.min(d.n, 100_000);
  const usBase = d.base.subarray(0, usRows * B);
  const { index, buildSeconds } = usearchIndex(usBase, d.dim);
  const nqUs = d.singleQueries;
  const exact = hammingTopKReference(usBase, d.queries.subarray(0, nqUs * B), d.dim, d.k);
  const unpacked = Array.from({ length: nqUs }, (_, i) => unpackBits(d.queries.subarray(i * B, i * B + B)));
  let hits = 0;
  for (let i = 0; i < nqUs; i++) {
    const got = new Set(Array.from(index.search(unpacked[i], d.k, 0).keys, Number));
    for (let j = 0; j < d.k; j++) if (got.has(exact.ids[i * d.k + j])) hits++;
  }
  let ui = 0;
  const tus = await measure('usearch', () => index.search(unpacked[ui++ % nqUs], d.k, 1), { maxTime: 0.5 });
  out.push({
    workload: 'W2 single',
    impl: 'USearch HNSW b1 (npm)',
    size: `${usRows} rows`,
    seconds: tus.seconds,
    throughput: 1 / tus.seconds,
    unit: 'q/s',
    note: `approximate: recall@${d.k} ${(hits / (nqUs * d.k)).toFixed(2)}, build ${buildSeconds.toFixed(1)} s`,
  });
  return { rows: out, distances };
}
