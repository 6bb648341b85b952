/**
 * Child process for the native misuse tests: each mode does something the
 * README asks callers not to do, against the addon directly, and prints
 * 'survived' if the process lives through it. Run with --expose-gc.
 *   terminate: worker threads start large async calls and are terminated mid-call.
 *   transfer:  input and out buffers are transferred away and collected, or shrunk, while their async call runs.
 *   shared-rows: a worker rewrites the row indices of a pending cosine call, after its check, to far outside the matrix.
 *   wide-k <backend>: a sharded search with k far beyond n; prints how much the peak RSS grew, in MiB, beside the result's size.
 */
import { Worker } from 'node:worker_threads';

import { createEngine } from '../../src/index.js';
import { addonPaths, loadAddon } from '../../src/simd/addon.js';
import { randomBytes } from './random.js';

const mode = process.argv[2];
const addon = loadAddon();
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

async function terminate(): Promise<void> {
  // Plain JS for the workers: they load the addon themselves, as the engine's shard workers do.
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const a = require(workerData.addon);
    const dim = 256, n = 100000;
    const base = new Uint8Array(n * dim / 8);
    for (let i = 0; i < base.length; i++) base[i] = (i * 2654435761) >>> 24;
    const x = new Float32Array(1 << 21).fill(1.5);
    const calls = () => {
      a.hammingTopK(base, base.subarray(0, 8 * dim / 8), dim, 10, { async: true });
      a.pack(x, 512, undefined, null, { async: true });
      a.median(x, 64, { async: true });
      // The same calls into the caller's arrays (out), which the pending work holds.
      a.hammingTopK(base, base.subarray(0, 8 * dim / 8), dim, 10, { async: true }, { ids: new Int32Array(80), distances: new Int32Array(80) });
      a.pack(x, 512, undefined, null, { async: true }, { codes: new Uint8Array(x.length / 8), scales: new Float32Array(x.length / 512) });
      a.median(x, 64, { async: true }, new Float32Array(x.length / 64));
    };
    calls();
    parentPort.postMessage('started');
    if (workerData.busy) for (;;) calls();
  `;
  for (let round = 0; round < 24; round++) {
    await Promise.all(
      [0, 1].map(
        (i) =>
          new Promise<void>((done, fail) => {
            const w = new Worker(src, { eval: true, workerData: { addon: addonPaths[0], busy: (round + i) % 2 === 0 } });
            w.once('error', fail);
            w.once('message', () => setTimeout(() => void w.terminate().then(() => done()), round % 6));
          }),
      ),
    );
  }
}

async function transfer(): Promise<void> {
  const dim = 512;
  for (let round = 0; round < 4; round++) {
    // Large enough that the allocator maps and unmaps them (a read after the
    // free faults), and 32 queries make the scan outlast the collection.
    const x = new Float32Array(new ArrayBuffer(64 << 20)).fill(0.5);
    const codes = randomBytes(64 << 20, round);
    const queries = codes.slice(0, 32 * (dim / 8));
    const packed = addon.pack(x, dim, undefined, null, { async: true });
    const search = addon.hammingTopK(codes, queries, dim, 5, { async: true });
    structuredClone(x.buffer, { transfer: [x.buffer] });
    structuredClone(codes.buffer, { transfer: [codes.buffer as ArrayBuffer] });
    gc!();
    const [p, s] = await Promise.all([packed, search]);
    if (p.scales[0] !== 0.5 || s.distances[0] !== 0) throw new Error('a held input was read wrong');
  }
  // Outputs transferred away and collected under the call: the kernel writes
  // into memory the call holds, and the call reports the result lost.
  for (let round = 0; round < 4; round++) {
    const x = new Float32Array(new ArrayBuffer(64 << 20)).fill(0.5);
    const out = new Float32Array(new ArrayBuffer(32 << 20));
    const codes = randomBytes(64 << 20, round);
    const top = { ids: new Int32Array(32 * 5), distances: new Int32Array(32 * 5) };
    const median = (addon.median(x, 2, { async: true }, out) as Promise<Float32Array>).then(
      () => 'resolved',
      (e: { code?: string }) => e.code,
    );
    const search = (addon.hammingTopK(codes, codes.slice(0, 32 * (dim / 8)), dim, 5, { async: true }, top) as Promise<unknown>).then(
      () => 'resolved',
      (e: { code?: string }) => e.code,
    );
    structuredClone(out.buffer, { transfer: [out.buffer] });
    structuredClone(top.distances.buffer, { transfer: [top.distances.buffer] });
    gc!();
    const codesSeen = await Promise.all([median, search]);
    if (codesSeen.some((c) => c !== 'DETACHED_BUFFER')) throw new Error(`a detached out was not reported: ${codesSeen.join(', ')}`);
  }
  // A resizable buffer shrunk under the call: its pages are decommitted in place.
  type Resizable = ArrayBuffer & { resize(n: number): void };
  const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable;
  const rab = new Resizable(64 << 20, { maxByteLength: 64 << 20 });
  const y = new Float32Array(rab).fill(0.25);
  const packed = addon.pack(y, dim, undefined, null, { async: true });
  rab.resize(0);
  if ((await packed).scales.some((v) => v !== 0.25)) throw new Error('a resizable input was read wrong');
}

async function sharedRows(): Promise<void> {
  const dim = 64;
  const n = 1000;
  const nq = 2000;
  const c = 200;
  const vectors = new Float32Array(n * dim).fill(1);
  const queries = new Float32Array(nq * dim).fill(1);
  const rows = new Int32Array(new SharedArrayBuffer(nq * c * 4));
  const go = new Int32Array(new SharedArrayBuffer(4));
  // Each time it is told to, the writer fills rows with indices far past the matrix: after the call's check, during its kernel.
  const writer = new Worker(
    `const { workerData } = require('node:worker_threads');
     const rows = new Int32Array(workerData.rows), go = new Int32Array(workerData.go);
     for (;;) { Atomics.wait(go, 0, 0); rows.fill(0x40000000); Atomics.store(go, 0, 0); Atomics.notify(go, 0); }`,
    { eval: true, workerData: { rows: rows.buffer, go: go.buffer } },
  );
  try {
    for (let round = 0; round < 20; round++) {
      rows.fill(round % n);
      const pending = addon.cosineCandidates(vectors, rows, queries, dim, { async: true }) as Promise<Float32Array>;
      Atomics.store(go, 0, 1);
      Atomics.notify(go, 0);
      const out = await pending;
      Atomics.wait(go, 0, 1);
      if (out.some((v) => Math.abs(v - 1) > 1e-6)) throw new Error('the cosine of equal rows is not 1');
    }
  } finally {
    await writer.terminate();
  }
}

async function wideK(): Promise<void> {
  const dim = 64;
  const n = 20_000;
  const base = new Uint8Array(new SharedArrayBuffer(n * 8));
  base.set(randomBytes(n * 8, 1));
  const engine = await createEngine({ backend: process.argv[3] as 'js' | 'native', threads: 2, shardRows: 4096 });
  await engine.hammingTopK(base, base.subarray(0, 8), { dim, k: 10 });
  const before = process.resourceUsage().maxRSS;
  const r = await engine.hammingTopK(base, base.subarray(0, 8), { dim, k: 2 ** 24 });
  const grewMiB = (process.resourceUsage().maxRSS - before) / 1024;
  process.stdout.write(`${JSON.stringify({ grewMiB, resultMiB: (r.ids.byteLength + r.distances.byteLength) / 2 ** 20 })}\n`);
  await engine.close();
}

await ({ terminate, transfer, 'shared-rows': sharedRows, 'wide-k': wideK } as Record<string, () => Promise<void>>)[mode]();
process.stdout.write('survived\n');
