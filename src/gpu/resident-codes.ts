/**
 * Codes resident on the GPU, and growing there: rows live in segments that
 * each fit one binding, word-major with a pitch (the segment's capacity), so
 * an append writes only the new rows (uploaded row-major, then transposed
 * into place after the rows present). A full segment grows by a device-side
 * copy of its word stripes into a larger one, up to the binding limit; then
 * a new segment starts.
 *
 * Searches read a view: the segments and row count at their start, clipped
 * to the rows the caller's snapshot holds. A view holds its segment buffers:
 * one replaced by a larger copy is freed only when no view holds it, so an
 * append never pulls a buffer from under a search in flight.
 */
import { bytesPerRow } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { grid } from './buffers.js';
import { lastWordMask, toWordRows, wordsPerRow } from './codes.js';
import { bindGroup, dispatch, ensureHealthy, type Gpu, rowsPerChunk, submit } from './gpu.js';
import { defineParams } from './params.js';

/** Rows per workgroup of the filter and of chunkTopK (WG x RPT in hamming.wgsl). */
export const CHUNK = 4096;
/** Growth of a full segment's capacity, and the least capacity a segment opened by an append gets. */
const GROWTH = 1.5;
/** transpose.wgsl's uniforms: rows uploaded, words per row, valid bits of the last word, the segment's pitch, its first new row. */
const TRANSPOSE_PARAMS = defineParams({ rows: 'u32', words: 'u32', lastMask: 'u32', pitch: 'u32', row0: 'u32' });

export interface Segment {
  buffer: GPUBuffer;
  /** Capacity in rows: word w of row r is at w * pitch + r. */
  pitch: number;
  rows: number;
  rowBase: number;
  /** Views holding this buffer, and whether a larger copy has replaced it. */
  refs: number;
  retired: boolean;
}

/** What a search keeps between calls (hamming.ts's plans): freed once dropped and not busy. */
export interface KeptPlan {
  busy: boolean;
  dropped: boolean;
  free(): void;
}

export interface GpuCodes {
  readonly dim: number;
  n: number;
  /** Bumped whenever rows are added: plans bind row counts. */
  version: number;
  segments: Segment[];
  /** Rows one segment may hold (its word stripes fit one binding, its chunks one dispatch dimension). */
  readonly perSegment: number;
  plans: Map<string, KeptPlan>;
  released: boolean;
}

export interface ViewSegment {
  segment: Segment;
  buffer: GPUBuffer;
  pitch: number;
  rows: number;
  rowBase: number;
  chunkBase: number;
  chunks: number;
}

export interface CodesView {
  dim: number;
  n: number;
  version: number;
  chunks: number;
  segments: ViewSegment[];
}

export function emptyCodes(gpu: Gpu, dim: number): GpuCodes {
  const W = wordsPerRow(dim);
  const maxChunks = Math.min(gpu.ctx.limits.maxComputeWorkgroupsPerDimension, Math.floor(rowsPerChunk(gpu, W * 4) / CHUNK));
  return { dim, n: 0, version: 0, segments: [], perSegment: Math.max(1, maxChunks) * CHUNK, plans: new Map(), released: false };
}

export async function uploadCodes(gpu: Gpu, codes: Uint8Array, dim: number): Promise<GpuCodes> {
  const gc = emptyCodes(gpu, dim);
  await appendCodes(gpu, gc, codes);
  return gc;
}

function newSegment(gpu: Gpu, W: number, pitch: number, rowBase: number): Segment {
  return { buffer: gpu.pool.storage(pitch * W * 4), pitch, rows: 0, rowBase, refs: 0, retired: false };
}

function retire(gpu: Gpu, s: Segment): void {
  s.retired = true;
  if (s.refs === 0) gpu.pool.release(s.buffer);
}

/** Adds rows after those present; only they travel to the device. */
export async function appendCodes(gpu: Gpu, gc: GpuCodes, codes: Uint8Array): Promise<void> {
  const { dim } = gc;
  const B = bytesPerRow(dim);
  const W = wordsPerRow(dim);
  const m = codes.length / B;
  const transpose = gpu.pipelines.get('transpose', TRANSPOSE_PARAMS, 'toWordMajor');
  const first = gc.n === 0;
  for (let r = 0; r < m;) {
    ensureHealthy(gpu);
    if (gc.released) return;
    let last = gc.segments.at(-1);
    if (!last || last.rows === gc.perSegment) {
      // A first upload gets exact capacity; a segment an append opens, room to grow in.
      const pitch = Math.min(gc.perSegment, first ? m - r : Math.max(m - r, CHUNK));
      last = newSegment(gpu, W, pitch, gc.n);
      gc.segments.push(last);
    } else if (last.rows === last.pitch) {
      const pitch = Math.min(gc.perSegment, Math.max(last.rows + (m - r), Math.ceil(last.pitch * GROWTH)));
      const grown = newSegment(gpu, W, pitch, last.rowBase);
      const enc = gpu.ctx.device.createCommandEncoder();
      for (let w = 0; w < W; w++) enc.copyBufferToBuffer(last.buffer, w * last.pitch * 4, grown.buffer, w * pitch * 4, last.rows * 4);
      submit(gpu, enc);
      grown.rows = last.rows;
      gc.segments[gc.segments.length - 1] = grown;
      retire(gpu, last);
      last = grown;
    }
    const take = Math.min(m - r, last.pitch - last.rows);
    const rowMajor = await gpu.pool.upload(toWordRows(codes.subarray(r * B, (r + take) * B), take, dim));
    const u = gpu.pool.uniform(
      TRANSPOSE_PARAMS.encode({ rows: take, words: W, lastMask: lastWordMask(dim), pitch: last.pitch, row0: last.rows }),
    );
    const enc = gpu.ctx.device.createCommandEncoder();
    dispatch(gpu, enc, transpose, bindGroup(gpu, transpose, [u, rowMajor, last.buffer]), grid(gpu.ctx, take, 64));
    submit(gpu, enc);
    // The queue runs in order: a later upload into these reused buffers waits for this transpose.
    gpu.pool.release(rowMajor, u);
    last.rows += take;
    gc.n += take;
    gc.version++;
    r += take;
  }
  dropPlans(gc);
  await gpu.ctx.device.queue.onSubmittedWorkDone();
}

/** The first `rows` rows (all by default) as a search reads them; holds their buffers until releaseView. */
export function acquireView(gc: GpuCodes, rows = gc.n): CodesView {
  if (gc.released) throw new DsoError('INVALID_ARGUMENT', 'these resident codes have been released');
  const segments: ViewSegment[] = [];
  let chunkBase = 0;
  for (const s of gc.segments) {
    const r = Math.min(s.rows, rows - s.rowBase);
    if (r <= 0) break;
    s.refs++;
    const chunks = Math.ceil(r / CHUNK);
    segments.push({ segment: s, buffer: s.buffer, pitch: s.pitch, rows: r, rowBase: s.rowBase, chunkBase, chunks });
    chunkBase += chunks;
  }
  const n = segments.reduce((t, s) => t + s.rows, 0);
  return { dim: gc.dim, n, version: n === gc.n ? gc.version : -1, chunks: chunkBase, segments };
}

export function releaseView(gpu: Gpu, view: CodesView): void {
  for (const { segment } of view.segments) {
    segment.refs--;
    if (segment.refs === 0 && segment.retired) gpu.pool.release(segment.buffer);
  }
}

/** Forgets the kept plans (rows were added, or the codes released); one in use is freed when its search gives it back. */
function dropPlans(gc: GpuCodes): void {
  for (const plan of gc.plans.values()) {
    plan.dropped = true;
    if (!plan.busy) plan.free();
  }
  gc.plans.clear();
}

export function releaseCodes(gpu: Gpu, gc: GpuCodes): void {
  if (gc.released) return;
  gc.released = true;
  dropPlans(gc);
  for (const s of gc.segments) retire(gpu, s);
}
