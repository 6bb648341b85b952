/**
 * GPU kernels alone, on data already resident on the device: each is
 * recorded `reps` times into one submission and timed to its completion, so
 * uploads, readbacks and per-call latency are left out (the engine rows in
 * gpu.ts include them). The device's own copy bandwidth (copyBufferToBuffer,
 * read + write), measured in the same run, is the limit the figures are
 * stated against: the targets are fractions of HBM bandwidth.
 */
import { nativeBackend } from '../../src/engine/native-backend.js';
import { webgpuBackend } from '../../src/engine/webgpu-backend.js';
import { toWordRows, wordsPerRow } from '../../src/gpu/codes.js';
import { type ColumnBlock, prepareColumnBlock } from '../../src/gpu/columns.js';
import { type Gpu, rowsPerChunk } from '../../src/gpu/gpu.js';
import { blockSize, preparePrunedSearch, pruneCapacity, type PrunedSearch, releaseCodes, uploadCodes } from '../../src/gpu/hamming.js';
import type { Engine } from '../../src/index.js';
import { bytes, floats } from '../lib/data.js';
import type { Row } from '../lib/report.js';

export interface GpuKernelSizes {
  searchRows: number;
  batch: number;
  columns: number;
}

/** Seconds per repetition of the work `record` puts into an encoder, best of three submissions. */
async function kernelSeconds(gpu: Gpu, reps: number, record: (enc: GPUCommandEncoder) => void): Promise<number> {
  const run = async (): Promise<number> => {
    const enc = gpu.ctx.device.createCommandEncoder();
    for (let r = 0; r < reps; r++) record(enc);
    const t = performance.now();
    gpu.ctx.device.queue.submit([enc.finish()]);
    await gpu.ctx.device.queue.onSubmittedWorkDone();
    return (performance.now() - t) / 1000 / reps;
  };
  await run();
  return Math.min(await run(), await run(), await run());
}

/** Seconds per copy of 1 GiB (or half the largest buffer) from one device buffer to another. */
async function copySeconds(gpu: Gpu, size: number): Promise<number> {
  const a = gpu.pool.storage(size);
  const b = gpu.pool.storage(size);
  const s = await kernelSeconds(gpu, 10, (enc) => enc.copyBufferToBuffer(a, 0, b, 0, size));
  gpu.pool.release(a, b);
  return s;
}

export async function gpuKernelRows(S: GpuKernelSizes, native: Engine): Promise<Row[]> {
  const b = await webgpuBackend(nativeBackend({}));
  const gpu = b.gpu;
  const a = gpu.ctx.adapter;
  const label = `dso webgpu kernel (${a.description || a.device || a.vendor})`;
  const size = Math.min(1 << 30, Math.floor(gpu.ctx.limits.maxBufferSize / 8) * 4);
  const copy = await copySeconds(gpu, size);
  const limitGBs = (2 * size) / copy / 1e9;
  const limit = `device copy ${limitGBs.toFixed(0)} GB/s`;
  const out: Row[] = [
    {
      workload: 'GPU limit',
      impl: label,
      size: `${(size / 2 ** 20).toFixed(0)} MiB copyBufferToBuffer`,
      seconds: copy,
      throughput: limitGBs,
      unit: 'GB/s',
      note: 'read + write, measured in this run',
    },
  ];

  const dim = 384;
  const B = dim / 8;
  const base = bytes(S.searchRows * B, 2);
  const resident = await uploadCodes(gpu, base, dim);
  const queries = bytes(S.batch * B, 3);
  const words = toWordRows(queries, S.batch, dim);
  const k = 10;
  const cap = pruneCapacity(resident, k);
  const W = wordsPerRow(dim);
  // Blocks of queries as the engine makes them: one block's lists fit one binding.
  for (const m of [1, S.batch]) {
    const perBlock = blockSize(gpu, m, cap * 4);
    const searches: PrunedSearch[] = [];
    for (let q0 = 0; q0 < m; q0 += perBlock) {
      const mb = Math.min(perBlock, m - q0);
      searches.push(preparePrunedSearch(gpu, resident, words.subarray(q0 * W, (q0 + mb) * W), mb, k, cap));
    }
    const s = await kernelSeconds(gpu, m === 1 ? 20 : 3, (enc) => searches.forEach((x) => x.encode(enc)));
    for (const x of searches) x.release();
    const gbs = base.byteLength / 1e9 / s;
    if (m === 1) {
      out.push({
        workload: 'W2 single',
        impl: label,
        size: `${S.searchRows} x ${dim} bits, resident`,
        seconds: s,
        throughput: gbs,
        unit: 'GB/s',
        ofLimit: gbs / limitGBs,
        limit,
        note: 'codes read per query / kernel time',
      });
      continue;
    }
    const t = performance.now();
    await native.hammingTopK(base, queries, { dim, k });
    const nativeSeconds = (performance.now() - t) / 1000;
    const note = `${(nativeSeconds / s).toFixed(1)}x the native backend in this run (${nativeSeconds.toFixed(2)} s, one call); ${searches.length} block(s)`;
    out.push({
      workload: 'W2 batch',
      impl: label,
      size: `${S.searchRows} x ${dim} bits, ${m} queries, resident`,
      seconds: s,
      throughput: m / s,
      unit: 'q/s',
      note,
    });
  }
  releaseCodes(gpu, resident);

  const n = 64;
  const cols = floats(n * S.columns, 4);
  const block = Math.min(S.columns, rowsPerChunk(gpu, n * 4));
  const jobs: ColumnBlock[] = [];
  for (let j0 = 0; j0 < S.columns; j0 += block) {
    const w = Math.min(block, S.columns - j0);
    const m = new Float32Array(n * w);
    for (let i = 0; i < n; i++) m.set(cols.subarray(i * S.columns + j0, i * S.columns + j0 + w), i * w);
    jobs.push(prepareColumnBlock(gpu, m, n, w, undefined));
  }
  const sm = await kernelSeconds(gpu, 5, (enc) => jobs.forEach((j) => j.encode(enc)));
  for (const j of jobs) j.release();
  const gbs = cols.byteLength / 1e9 / sm;
  out.push({
    workload: 'W3 median',
    impl: label,
    size: `${n} x ${S.columns}, resident`,
    seconds: sm,
    throughput: gbs,
    unit: 'GB/s',
    ofLimit: gbs / limitGBs,
    limit,
    note: `${jobs.length} block(s) of one binding`,
  });
  await b.close?.();
  return out;
}
