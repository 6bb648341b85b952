/**
 * Hamming top-k on the GPU. A base of codes is uploaded once into segments
 * that each fit one binding (`uploadCodes`); searches then send only the
 * queries. Per query block: chunkTopK per segment (candidates per 4096-row
 * chunk), one mergeTopK, one readback.
 */
import { DsoError } from '../errors.js';
import { bytesPerRow } from '../simd/checks.js';
import { grid, readBack } from './buffers.js';
import { lastWordMask, toWordRows, wordsPerRow } from './codes.js';
import { bindGroup, dispatch, ensureHealthy, rowsPerChunk, type Gpu } from './gpu.js';

const CHUNK = 4096;
const KMAX = 256;
const EMPTY = 0xffffffff;

export interface GpuCodes {
  dim: number;
  n: number;
  chunks: number;
  segments: Array<{ buffer: GPUBuffer; rows: number; rowBase: number; chunkBase: number; chunks: number }>;
  released: boolean;
}

/** Workgroup memory the Hamming program needs for `dim` (see hamming.wgsl). */
function workgroupBytes(dim: number): number {
  return (dim + 1) * 4 + wordsPerRow(dim) * 4 + 128 * 4 + 256 * 4 + 2 * KMAX * 4 + 16;
}

/** Whether the GPU program handles this shape; other shapes run on the fallback backend. */
export function gpuHammingSupports(gpu: Gpu, dim: number, k: number): boolean {
  return k <= KMAX && workgroupBytes(dim) <= gpu.ctx.limits.maxComputeWorkgroupStorageSize;
}

export function uploadCodes(gpu: Gpu, codes: Uint8Array, dim: number): GpuCodes {
  const B = bytesPerRow(dim);
  const W = wordsPerRow(dim);
  const n = codes.length / B;
  const perSegment = Math.max(CHUNK, Math.floor(rowsPerChunk(gpu, W * 4) / CHUNK) * CHUNK);
  const segments: GpuCodes['segments'] = [];
  let chunkBase = 0;
  for (let r0 = 0; r0 < n; r0 += perSegment) {
    const rows = Math.min(perSegment, n - r0);
    const buffer = gpu.pool.upload(toWordRows(codes.subarray(r0 * B, (r0 + rows) * B), rows, dim));
    const chunks = Math.ceil(rows / CHUNK);
    segments.push({ buffer, rows, rowBase: r0, chunkBase, chunks });
    chunkBase += chunks;
  }
  return { dim, n, chunks: chunkBase, segments, released: false };
}

export function releaseCodes(gpu: Gpu, codes: GpuCodes): void {
  if (codes.released) return;
  codes.released = true;
  gpu.pool.release(...codes.segments.map((s) => s.buffer));
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
  const constants = { WORDS: W, BINS: dim + 1 };
  const chunkP = gpu.pipelines.get('hamming', 'chunkTopK', constants);
  const mergeP = gpu.pipelines.get('hamming', 'mergeTopK', constants);
  const candBytesPerQuery = base.chunks * k * 4;
  const limit = Math.min(gpu.ctx.limits.maxStorageBufferBindingSize, 256 << 20);
  const qb = Math.max(1, Math.min(nq, gpu.ctx.limits.maxComputeWorkgroupsPerDimension, Math.floor(limit / candBytesPerQuery)));
  for (let q0 = 0; q0 < nq; q0 += qb) {
    ensureHealthy(gpu);
    const m = Math.min(qb, nq - q0);
    const qbuf = gpu.pool.upload(toWordRows(queries.subarray(q0 * B, (q0 + m) * B), m, dim));
    const candD = gpu.pool.storage(m * candBytesPerQuery);
    const candI = gpu.pool.storage(m * candBytesPerQuery);
    const outD = gpu.pool.storage(m * k * 4);
    const outI = gpu.pool.storage(m * k * 4);
    const enc = gpu.ctx.device.createCommandEncoder();
    const uniforms: GPUBuffer[] = [];
    for (const s of base.segments) {
      const u = gpu.pool.uniform([s.rows, k, lastWordMask(dim), s.rowBase, s.chunkBase, base.chunks, 0, 0]);
      uniforms.push(u);
      dispatch(enc, chunkP, bindGroup(gpu, chunkP, [u, s.buffer, qbuf, candD, candI, outD, outI]), [m, s.chunks]);
    }
    const mu = gpu.pool.uniform([0, k, 0, 0, 0, base.chunks, 0, 0]);
    uniforms.push(mu);
    // mergeTopK reads neither the base nor the queries: bindings 1 and 2 are not in its layout.
    dispatch(enc, mergeP, bindGroup(gpu, mergeP, [mu, undefined, undefined, candD, candI, outD, outI]), [m, 1]);
    const [d, i] = await readBack(gpu.ctx, gpu.pool, enc, [
      { buffer: outD, bytes: m * k * 4 },
      { buffer: outI, bytes: m * k * 4 },
    ]);
    gpu.pool.release(qbuf, candD, candI, outD, outI, ...uniforms);
    const dv = new Uint32Array(d.buffer, d.byteOffset, m * k);
    const iv = new Uint32Array(i.buffer, i.byteOffset, m * k);
    for (let e = 0; e < m * k; e++) {
      if (dv[e] !== EMPTY) {
        distances[q0 * k + e] = dv[e];
        ids[q0 * k + e] = iv[e];
      }
    }
  }
  return { ids, distances };
}
