/**
 * GPU kernels alone, on data already resident on the device: each is
 * recorded `reps` times into one submission and timed to its completion, so
 * uploads, readbacks and per-call latency are left out (the engine rows in
 * gpu.ts include them). The limit they are stated against is the device's
 * streaming read as a WGSL kernel sees it (stream-read.wgsl), measured in
 * the same run; the device copy (copyBufferToBuffer, which reads and writes
 * every byte) is reported beside it as what it is. Then the transfers, old
 * path and new side by side: queue.writeBuffer in 16 MiB chunks against the
 * staging ring, and a readback copied out of the mapped range into fresh
 * memory (getMappedRange().slice) against one read into reused memory.
 */
import { subgroupPick } from '../../src/engine/crossover.js';
import { nativeBackend } from '../../src/engine/native-backend.js';
import { webgpuBackend } from '../../src/engine/webgpu-backend.js';
import { wordsPerRow } from '../../src/gpu/codes.js';
import { type ColumnBlock, columnWidth, prepareColumnBlock } from '../../src/gpu/columns.js';
import { type Gpu, rowsPerChunk } from '../../src/gpu/gpu.js';
import { blockSize, preparePrunedSearch, pruneCapacity, type PrunedSearch } from '../../src/gpu/hamming.js';
import { acquireView, releaseCodes, releaseView, uploadCodes } from '../../src/gpu/resident-codes.js';
import { prepareStreamRead } from '../../src/gpu/stream-read.js';
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

/** Best of three of an async transfer. */
async function best(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  let s = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await fn();
    s = Math.min(s, (performance.now() - t) / 1000);
  }
  return s;
}

/** Upload and readback paths, old and new, over `size` bytes. */
async function transferRows(gpu: Gpu, label: string, size: number): Promise<Row[]> {
  const host = bytes(size, 9);
  const dst = gpu.pool.storage(size);
  const chunk = 16 << 20;
  const writeBuffer = await best(async () => {
    for (let off = 0; off < size; off += chunk) gpu.ctx.device.queue.writeBuffer(dst, off, host, off, Math.min(chunk, size - off));
    await gpu.ctx.device.queue.onSubmittedWorkDone();
  });
  const ring = await best(async () => {
    await gpu.pool.write(dst, 0, host);
    await gpu.ctx.device.queue.onSubmittedWorkDone();
  });
  const staging = gpu.pool.readback(size);
  const readInto = async (read: (range: ArrayBuffer) => void) => {
    const enc = gpu.ctx.device.createCommandEncoder();
    enc.copyBufferToBuffer(dst, 0, staging, 0, size);
    gpu.ctx.device.queue.submit([enc.finish()]);
    await staging.mapAsync(0x0001, 0, size);
    read(staging.getMappedRange(0, size));
    staging.unmap();
  };
  const reused = new Uint8Array(size);
  let sliced = new Uint8Array(0);
  const slice = await best(() => readInto((r) => (sliced = new Uint8Array(r.slice(0)))));
  const into = await best(() => readInto((r) => reused.set(new Uint8Array(r))));
  const same = sliced.every((v, i) => v === host[i]) && reused.every((v, i) => v === host[i]);
  gpu.pool.release(dst, staging);
  const mib = `${(size / 2 ** 20).toFixed(0)} MiB`;
  const row = (workload: string, s: number, note: string): Row => ({
    workload,
    impl: label,
    size: mib,
    seconds: s,
    throughput: size / 1e9 / s,
    unit: 'GB/s',
    note,
  });
  return [
    row('GPU upload', writeBuffer, 'before: queue.writeBuffer in 16 MiB chunks'),
    row('GPU upload', ring, `after: staging ring (${(gpu.pool.chunkBytes / 2 ** 20).toFixed(0)} MiB MAP_WRITE slots, copies overlapped)`),
    row('GPU readback', slice, 'before: mapped range copied into fresh memory (slice)'),
    row(
      'GPU readback',
      into,
      `after: mapped range read into reused memory; ${same ? 'both identical to the upload' : 'DIFFERS from the upload'}`,
    ),
  ];
}

export async function gpuKernelRows(S: GpuKernelSizes, native: Engine): Promise<Row[]> {
  const b = await webgpuBackend(nativeBackend({}));
  const gpu = b.gpu;
  const a = gpu.ctx.adapter;
  const label = `dso webgpu kernel (${a.description || a.device || a.vendor})`;
  // Far past any cache: 1 GiB, or what one binding allows.
  const size = Math.floor(Math.min(1 << 30, gpu.ctx.limits.maxStorageBufferBindingSize, gpu.ctx.limits.maxBufferSize / 2) / 16) * 16;
  const src = gpu.pool.storage(size);
  const dst = gpu.pool.storage(size);
  const read = prepareStreamRead(gpu, src, size);
  const readSeconds = await kernelSeconds(gpu, 10, read.encode);
  const copySeconds = await kernelSeconds(gpu, 10, (enc) => enc.copyBufferToBuffer(src, 0, dst, 0, size));
  read.release();
  gpu.pool.release(src, dst);
  const limitGBs = size / readSeconds / 1e9;
  const limit = `WGSL read ${limitGBs.toFixed(limitGBs < 10 ? 2 : 0)} GB/s`; // a software adapter reads a few GB/s
  const mib = `${(size / 2 ** 20).toFixed(0)} MiB`;
  const out: Row[] = [
    {
      workload: 'GPU limit',
      impl: label,
      size: `${mib} WGSL streaming read`,
      seconds: readSeconds,
      throughput: limitGBs,
      unit: 'GB/s',
      note: 'vec4 loads, grid-stride; the limit the kernel rows are stated against',
    },
    {
      workload: 'GPU copy',
      impl: label,
      size: `${mib} copyBufferToBuffer`,
      seconds: copySeconds,
      throughput: (2 * size) / copySeconds / 1e9,
      unit: 'GB/s',
      note: 'read + write of every byte: a device copy, not the read limit',
    },
  ];

  const dim = 384;
  const B = dim / 8;
  const base = bytes(S.searchRows * B, 2);
  const resident = await uploadCodes(gpu, base, dim);
  const view = acquireView(resident);
  const queries = bytes(S.batch * B, 3);
  const k = 10;
  const cap = pruneCapacity(view, k);
  const W = wordsPerRow(dim);
  const choice = await b.subgroups();
  const useSubgroups = choice === 'always' ? () => true : choice === 'never' ? () => false : subgroupPick(choice);
  // Blocks of queries as the engine makes them: one block's lists fit one binding.
  for (const m of [1, S.batch]) {
    const perBlock = blockSize(gpu, m, cap * 4);
    const searches: PrunedSearch[] = [];
    for (let q0 = 0; q0 < m; q0 += perBlock) {
      const mb = Math.min(perBlock, m - q0);
      const s = preparePrunedSearch(gpu, view, mb, k, cap, useSubgroups(view.n, mb));
      await gpu.pool.write(s.qbuf, 0, new Uint32Array(queries.buffer, q0 * B, mb * W));
      searches.push(s);
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
        note: `codes read per query / kernel time; one pass of ${view.segments.length + 2} dispatches`,
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
  releaseView(gpu, view);
  releaseCodes(gpu, resident);

  const n = 64;
  const cols = floats(n * S.columns, 4);
  const V = columnWidth(n, S.columns);
  const block = Math.min(S.columns, Math.floor(rowsPerChunk(gpu, n * 4) / V) * V);
  const jobs: ColumnBlock[] = [];
  for (let j0 = 0; j0 < S.columns; j0 += block) {
    jobs.push(await prepareColumnBlock(gpu, cols, n, S.columns, j0, Math.min(block, S.columns - j0), undefined, V));
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
    note: `${jobs.length} block(s) of one binding; ${V} column(s) per invocation`,
  });
  out.push(...(await transferRows(gpu, label, Math.min(128 << 20, size))));
  await b.close?.();
  return out;
}
