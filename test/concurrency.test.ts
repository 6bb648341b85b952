import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

import { createEngine, hammingTopKReference } from '../src/index.js';
import { addonAvailable, addonPaths } from '../src/simd/addon.js';
import { randomBytes } from './helpers/random.js';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.path);
const { base, queries, dim, k, isa } = workerData;
const r = addon.hammingTopK(base, queries, dim, k, { isa });
const m = addon.median(new Float32Array([3, 1, 2, 5, 4, 6]), 3, { isa });
parentPort.postMessage({ ids: r.ids, distances: r.distances, median: m });
`;

function runWorker(data: object): Promise<{ ids: Int32Array; distances: Int32Array; median: Float32Array }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: data });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

describe.skipIf(!addonAvailable())('native addon under concurrency', () => {
  it('loads in many worker threads at once, each computing the same answer', async () => {
    const dim = 384;
    const base = randomBytes(2000 * 48, 1);
    const queries = randomBytes(8 * 48, 2);
    const want = hammingTopKReference(base, queries, dim, 10);
    const results = await Promise.all(
      ['serial', 'avx2', 'avx512', 'serial', 'avx2', 'avx512'].map((isa) =>
        runWorker({ path: addonPaths.find((p) => p.endsWith('.node')), base, queries, dim, k: 10, isa }),
      ),
    );
    for (const r of results) {
      expect(r.ids).toEqual(want.ids);
      expect(r.distances).toEqual(want.distances);
      expect(Array.from(r.median)).toEqual([3, 5]); // columns [3,2,4] and [1,5,6]
    }
  });

  it('keeps the event loop live while a 1M-code search runs off-thread', async () => {
    const e = await createEngine({ backend: 'native', isa: 'serial' });
    const base = randomBytes(1_000_000 * 48, 3);
    const queries = randomBytes(4 * 48, 4);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let settled = false;
    const search = e.hammingTopK(base, queries, { dim: 384, k: 10 }).then((r) => {
      settled = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    const ticksWhileRunning = ticks;
    const wasSettled = settled;
    const r = await search;
    clearInterval(timer);
    expect(wasSettled).toBe(false);
    expect(ticksWhileRunning).toBeGreaterThan(0);
    expect(r.ids.length).toBe(40);
  });

  it('takes SharedArrayBuffer-backed inputs, as the worker pool shares them', async () => {
    const e = await createEngine({ backend: 'native' });
    const dim = 100;
    const base = new Uint8Array(new SharedArrayBuffer(300 * 13));
    base.set(randomBytes(300 * 13, 8));
    const q = new Uint8Array(new SharedArrayBuffer(2 * 13));
    q.set(randomBytes(2 * 13, 9));
    expect(await e.hammingTopK(base, q, { dim, k: 5 })).toEqual(hammingTopKReference(base, q, dim, 5));
    const rows = new Float32Array(new SharedArrayBuffer(3 * 4 * 4));
    rows.set([3, 1, 2, 5, 4, 6, 0, 9, 8, 7, 1, 1]);
    expect(Array.from(await e.median(rows, { n: 3 }))).toEqual([4, 6, 1, 5]); // columns [3,4,8] [1,6,7] [2,0,1] [5,9,1]
  });

  it('serves many concurrent async calls with correct results', async () => {
    const e = await createEngine({ backend: 'native' });
    const dim = 256;
    const base = randomBytes(20_000 * 32, 5);
    const qs = Array.from({ length: 12 }, (_, i) => randomBytes(3 * 32, 10 + i));
    const got = await Promise.all(qs.map((q) => e.hammingTopK(base, q, { dim, k: 7 })));
    qs.forEach((q, i) => expect(got[i]).toEqual(hammingTopKReference(base, q, dim, 7)));
  });
});
