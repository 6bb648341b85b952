/**
 * Hamming top-k on the GPU. A base of codes is uploaded once into segments
 * that each fit one binding, laid out word-major (`uploadCodes`); searches
 * then send only the queries. Per block of queries, the pruned path
 * (hamming-prune.wgsl: a bound from a sample, a filter over the base with
 * queries tiled in workgroup memory, a selection over the few candidates) runs
 * in one submission with one readback. Queries whose candidate lists
 * overflowed (many rows tied at the bound) go through the exact chunked path
 * (hamming.wgsl) in a second round.
 */
import { bytesPerRow } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { grid, readBack } from './buffers.js';
import { lastWordMask, toWordRows, wordsPerRow } from './codes.js';
import { bindGroup, dispatch, ensureHealthy, type Gpu, rowsPerChunk } from './gpu.js';

/** Rows per workgroup of the filter and of chunkTopK (WG x RPT in hamming.wgsl). */
const CHUNK = 4096;
const KMAX = 256;
/** Rows in the bound's sample: an eighth of the base, at least 1,024 and at most 16,384 (a 16 KiB scan per query at 384 bits). */
function sampleRows(n: number, firstSegment: number): number {
  return Math.min(firstSegment, Math.max(1024, Math.min(16384, Math.floor(n / 8))));
}
const QT_MAX = 16;
const EMPTY = 0xffffffff;

export interface GpuCodes {
  dim: number;
  n: number;
  chunks: number;
  segments: Array<{ buffer: GPUBuffer; rows: number; rowBase: number; chunkBase: number; chunks: number }>;
  released: boolean;
}

/** Workgroup memory the largest Hamming entry point needs for `dim` (see hamming*.wgsl). */
function workgroupBytes(dim: number): number {
  const W = wordsPerRow(dim);
  const histogram = (dim + 1) * 4;
  const shared = W * 4 + 2 * KMAX * 4 + 64;
  const chunk = 128 * 4 + 256 * 4;
  const prune = Math.max(QT_MAX * W * 4 + QT_MAX * 4, 256 * 4);
  return histogram + shared + Math.max(chunk, prune);
}

/** Whether the GPU programs handle this shape; other shapes run on the fallback backend. */
export function gpuHammingSupports(gpu: Gpu, dim: number, k: number): boolean {
  return k <= KMAX && workgroupBytes(dim) <= gpu.ctx.limits.maxComputeWorkgroupStorageSize;
}

export async function uploadCodes(gpu: Gpu, codes: Uint8Array, dim: number): Promise<GpuCodes> {
  const B = bytesPerRow(dim);
  const W = wordsPerRow(dim);
  const n = codes.length / B;
  // A segment fits one binding and its chunks one dispatch dimension.
  const maxChunks = Math.min(gpu.ctx.limits.maxComputeWorkgroupsPerDimension, Math.floor(rowsPerChunk(gpu, W * 4) / CHUNK));
  const perSegment = Math.max(1, maxChunks) * CHUNK;
  const transpose = gpu.pipelines.get('transpose', 'toWordMajor');
  const segments: GpuCodes['segments'] = [];
  let chunkBase = 0;
  for (let r0 = 0; r0 < n; r0 += perSegment) {
    ensureHealthy(gpu);
    const rows = Math.min(perSegment, n - r0);
    const rowMajor = gpu.pool.upload(toWordRows(codes.subarray(r0 * B, (r0 + rows) * B), rows, dim));
    const buffer = gpu.pool.storage(rows * W * 4);
    const u = gpu.pool.uniform([rows, W, lastWordMask(dim), 0]);
    const enc = gpu.ctx.device.createCommandEncoder();
    dispatch(enc, transpose, bindGroup(gpu, transpose, [u, rowMajor, buffer]), grid(gpu.ctx, rows, 64));
    gpu.ctx.device.queue.submit([enc.finish()]);
    // The queue runs in order: the next segment's upload into a reused buffer waits for this transpose.
    gpu.pool.release(rowMajor, u);
    const chunks = Math.ceil(rows / CHUNK);
    segments.push({ buffer, rows, rowBase: r0, chunkBase, chunks });
    chunkBase += chunks;
  }
  await gpu.ctx.device.queue.onSubmittedWorkDone();
  return { dim, n, chunks: chunkBase, segments, released: false };
}

export function releaseCodes(gpu: Gpu, codes: GpuCodes): void {
  if (codes.released) return;
  codes.released = true;
  gpu.pool.release(...codes.segments.map((s) => s.buffer));
}

/**
 * Candidate slots per query. The bound is the kk-th smallest of `sample`
 * distances, so about n * kk / sample rows pass, but the kk-th order
 * statistic has a long upper tail for small kk (kk + 3 sqrt(kk) + 7 covers
 * it to about 1 in 1,000), and the whole bin at the bound passes (x3). An
 * overflow costs the exact path, never a wrong answer.
 */
export function pruneCapacity(base: GpuCodes, k: number): number {
  return capacity(base.n, k, sampleRows(base.n, base.segments[0].rows));
}

function capacity(n: number, k: number, sample: number): number {
  const kk = Math.min(k, sample);
  const expected = (n * (kk + 3 * Math.sqrt(kk) + 7)) / sample;
  return Math.min(n, Math.max(64, 4 * k, Math.ceil(3 * expected)));
}

function params(
  fields: Partial<Record<'n' | 'k' | 'lastMask' | 'rowBase' | 'chunkBase' | 'chunks' | 'nq' | 'cap' | 'sample' | 'stride', number>>,
): number[] {
  const f = fields;
  return [
    f.n ?? 0,
    f.k ?? 0,
    f.lastMask ?? 0,
    f.rowBase ?? 0,
    f.chunkBase ?? 0,
    f.chunks ?? 0,
    f.nq ?? 0,
    f.cap ?? 0,
    f.sample ?? 0,
    f.stride ?? 0,
    0,
    0,
  ];
}

interface BlockResult {
  d: Uint32Array;
  i: Uint32Array;
}

/** The buffers of one pruned search: queries in, lists and results out. */
export interface PrunedSearch {
  outD: GPUBuffer;
  outI: GPUBuffer;
  counts: GPUBuffer;
  /** Records the search into `enc`; recording it again repeats it (the benchmark times kernels this way, apart from uploads and readbacks). */
  encode(enc: GPUCommandEncoder): void;
  release(): void;
}

/** Uploads m queries (u32 word rows) and binds the pruned path: sampleBound, filterRows per segment, selectTopK. */
export function preparePrunedSearch(gpu: Gpu, base: GpuCodes, words: Uint32Array, m: number, k: number, cap: number): PrunedSearch {
  const { dim } = base;
  const W = wordsPerRow(dim);
  const qt = Math.min(QT_MAX, 2 ** Math.ceil(Math.log2(m)));
  const files = [gpu.ctx.adapter.subgroups ? 'hamming-append-subgroups' : 'hamming-append', 'hamming', 'hamming-prune'];
  const constants = { WORDS: W, BINS: dim + 1 };
  const boundP = gpu.pipelines.get(files, 'sampleBound', constants);
  const filterP = gpu.pipelines.get(files, 'filterRows', { ...constants, QT: qt });
  const selectP = gpu.pipelines.get(files, 'selectTopK', constants);
  const first = base.segments[0];
  const sample = sampleRows(base.n, first.rows);
  const stride = Math.floor(first.rows / sample);
  const mask = lastWordMask(dim);

  const qbuf = gpu.pool.upload(words.subarray(0, m * W));
  const bounds = gpu.pool.storage(m * 4);
  const counts = gpu.pool.storage(m * 4);
  const candD = gpu.pool.storage(m * cap * 4);
  const candI = gpu.pool.storage(m * cap * 4);
  const outD = gpu.pool.storage(m * k * 4);
  const outI = gpu.pool.storage(m * k * 4);
  const uniforms: GPUBuffer[] = [];
  const group = (
    pipeline: GPUComputePipeline,
    fields: Parameters<typeof params>[0],
    buffers: Array<GPUBuffer | undefined>,
  ): GPUBindGroup => {
    const u = gpu.pool.uniform(params({ k, lastMask: mask, nq: m, cap, ...fields }));
    uniforms.push(u);
    return bindGroup(gpu, pipeline, [u, ...buffers]);
  };
  const boundG = group(boundP, { n: first.rows, sample, stride }, [first.buffer, qbuf, undefined, undefined, undefined, undefined, bounds]);
  const filterG = base.segments.map((s) =>
    group(filterP, { n: s.rows, rowBase: s.rowBase }, [s.buffer, qbuf, candD, candI, undefined, undefined, bounds, counts]),
  );
  const selectG = group(selectP, {}, [undefined, undefined, candD, candI, outD, outI, undefined, counts]);
  return {
    outD,
    outI,
    counts,
    encode(enc) {
      enc.clearBuffer(counts, 0, m * 4);
      dispatch(enc, boundP, boundG, [m, 1]);
      base.segments.forEach((s, i) => dispatch(enc, filterP, filterG[i], [Math.ceil(m / qt), s.chunks]));
      dispatch(enc, selectP, selectG, [m, 1]);
    },
    release() {
      gpu.pool.release(qbuf, bounds, counts, candD, candI, outD, outI, ...uniforms);
    },
  };
}

/** Queries [q0, q0 + m) of `words` through the pruned path; `counts[q] > cap` marks an overflowed list. */
async function prunedBlock(
  gpu: Gpu,
  base: GpuCodes,
  words: Uint32Array,
  q0: number,
  m: number,
  k: number,
  cap: number,
): Promise<BlockResult & { counts: Uint32Array }> {
  const W = wordsPerRow(base.dim);
  const search = preparePrunedSearch(gpu, base, words.subarray(q0 * W, (q0 + m) * W), m, k, cap);
  const enc = gpu.ctx.device.createCommandEncoder();
  search.encode(enc);
  const [d, i, c] = await readBack(gpu.ctx, gpu.pool, enc, [
    { buffer: search.outD, bytes: m * k * 4 },
    { buffer: search.outI, bytes: m * k * 4 },
    { buffer: search.counts, bytes: m * 4 },
  ]);
  search.release();
  return { d: u32(d, m * k), i: u32(i, m * k), counts: u32(c, m) };
}

/** Queries [q0, q0 + m) of `words` through the exact chunked path. */
async function exactBlock(gpu: Gpu, base: GpuCodes, words: Uint32Array, q0: number, m: number, k: number): Promise<BlockResult> {
  const { dim } = base;
  const W = wordsPerRow(dim);
  const constants = { WORDS: W, BINS: dim + 1 };
  const chunkP = gpu.pipelines.get('hamming', 'chunkTopK', constants);
  const mergeP = gpu.pipelines.get('hamming', 'mergeTopK', constants);
  const qbuf = gpu.pool.upload(words.subarray(q0 * W, (q0 + m) * W));
  const candD = gpu.pool.storage(m * base.chunks * k * 4);
  const candI = gpu.pool.storage(m * base.chunks * k * 4);
  const outD = gpu.pool.storage(m * k * 4);
  const outI = gpu.pool.storage(m * k * 4);
  const enc = gpu.ctx.device.createCommandEncoder();
  const uniforms: GPUBuffer[] = [];
  const mask = lastWordMask(dim);
  for (const s of base.segments) {
    const u = gpu.pool.uniform(params({ n: s.rows, k, lastMask: mask, rowBase: s.rowBase, chunkBase: s.chunkBase, chunks: base.chunks }));
    uniforms.push(u);
    dispatch(enc, chunkP, bindGroup(gpu, chunkP, [u, s.buffer, qbuf, candD, candI, outD, outI]), [m, s.chunks]);
  }
  const mu = gpu.pool.uniform(params({ k, chunks: base.chunks }));
  uniforms.push(mu);
  // mergeTopK reads neither the base nor the queries: bindings 1 and 2 are not in its layout.
  dispatch(enc, mergeP, bindGroup(gpu, mergeP, [mu, undefined, undefined, candD, candI, outD, outI]), [m, 1]);
  const [d, i] = await readBack(gpu.ctx, gpu.pool, enc, [
    { buffer: outD, bytes: m * k * 4 },
    { buffer: outI, bytes: m * k * 4 },
  ]);
  gpu.pool.release(qbuf, candD, candI, outD, outI, ...uniforms);
  return { d: u32(d, m * k), i: u32(i, m * k) };
}

function u32(bytes: Uint8Array, length: number): Uint32Array {
  return new Uint32Array(bytes.buffer, bytes.byteOffset, length);
}

/** Bytes one scratch binding of a search may take: the device's limit, at most 256 MiB. */
function scratchBytes(gpu: Gpu): number {
  return Math.min(gpu.ctx.limits.maxStorageBufferBindingSize, 256 << 20);
}

/** Queries per block: within the dispatch limit and with `bytesPerQuery` of scratch per query in one binding. */
export function blockSize(gpu: Gpu, nq: number, bytesPerQuery: number): number {
  return Math.max(1, Math.min(nq, gpu.ctx.limits.maxComputeWorkgroupsPerDimension, Math.floor(scratchBytes(gpu) / bytesPerQuery)));
}

export async function gpuHammingTopK(
  gpu: Gpu,
  base: GpuCodes,
  queries: Uint8Array,
  k: number,
): Promise<{ ids: Int32Array; distances: Int32Array }> {
  if (base.released) throw new DsoError('INVALID_ARGUMENT', 'these resident codes have been released');
  const { dim } = base;
  const B = bytesPerRow(dim);
  const W = wordsPerRow(dim);
  const nq = queries.length / B;
  const ids = new Int32Array(nq * k).fill(-1);
  const distances = new Int32Array(nq * k).fill(-1);
  if (base.n === 0 || nq === 0) return { ids, distances };
  const words = toWordRows(queries, nq, dim);
  const put = (q: number, r: BlockResult, e: number): void => {
    for (let j = 0; j < k; j++) {
      if (r.d[e * k + j] === EMPTY) continue;
      distances[q * k + j] = r.d[e * k + j];
      ids[q * k + j] = r.i[e * k + j];
    }
  };

  const cap = pruneCapacity(base, k);
  let overflowed: number[] = [];
  if (cap * 4 <= scratchBytes(gpu)) {
    const qb = blockSize(gpu, nq, cap * 4);
    for (let q0 = 0; q0 < nq; q0 += qb) {
      ensureHealthy(gpu);
      const m = Math.min(qb, nq - q0);
      const r = await prunedBlock(gpu, base, words, q0, m, k, cap);
      for (let e = 0; e < m; e++) {
        if (r.counts[e] > cap) overflowed.push(q0 + e);
        else put(q0 + e, r, e);
      }
    }
  } else {
    overflowed = Array.from({ length: nq }, (_, q) => q);
  }
  gpu.stats.prunedQueries += nq - overflowed.length;
  gpu.stats.exactQueries += overflowed.length;
  if (overflowed.length === 0) return { ids, distances };

  const rest = new Uint32Array(overflowed.length * W);
  overflowed.forEach((q, e) => rest.set(words.subarray(q * W, q * W + W), e * W));
  const qb = blockSize(gpu, overflowed.length, base.chunks * k * 4);
  for (let q0 = 0; q0 < overflowed.length; q0 += qb) {
    ensureHealthy(gpu);
    const m = Math.min(qb, overflowed.length - q0);
    const r = await exactBlock(gpu, base, rest, q0, m, k);
    for (let e = 0; e < m; e++) put(overflowed[q0 + e], r, e);
  }
  return { ids, distances };
}
