/** Packing and dequantizing on the GPU, in row chunks that fit one binding. */
import type { PackShape } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { grid, readBack } from './buffers.js';
import { fromWordRows, toWordRows, wordsPerRow } from './codes.js';
import { bindGroup, dispatch, ensureHealthy, type Gpu, rowsPerChunk } from './gpu.js';

const NONE = 0xffffffff;

function params(s: PackShape, rows: number, hasBaseline: boolean): number[] {
  return [rows, s.dim, wordsPerRow(s.dim), s.groupSize, s.groups, hasBaseline ? 1 : 0, 0, 0];
}

export async function gpuPack(
  gpu: Gpu,
  x: Float32Array,
  s: PackShape,
  baseline?: Float32Array,
): Promise<{ codes: Uint8Array; scales: Float32Array }> {
  const W = wordsPerRow(s.dim);
  const codes = new Uint8Array(s.rows * s.bytesPerRow);
  const scales = new Float32Array(s.rows * s.groups);
  const step = rowsPerChunk(gpu, s.dim * 4);
  const bits = gpu.pipelines.get('pack', 'packBits');
  const sums = gpu.pipelines.get('pack', 'packScales');
  const base = gpu.pool.upload(baseline ?? new Float32Array(1));
  try {
    for (let r0 = 0; r0 < s.rows; r0 += step) {
      ensureHealthy(gpu);
      const rows = Math.min(step, s.rows - r0);
      const xb = gpu.pool.upload(x.subarray(r0 * s.dim, (r0 + rows) * s.dim));
      const cb = gpu.pool.storage(rows * W * 4);
      const sb = gpu.pool.storage(rows * s.groups * 4);
      const bad = gpu.pool.upload(new Uint32Array([NONE]));
      const u = gpu.pool.uniform(params(s, rows, baseline !== undefined));
      const enc = gpu.ctx.device.createCommandEncoder();
      dispatch(enc, bits, bindGroup(gpu, bits, [u, xb, base, cb, undefined, bad]), grid(gpu.ctx, rows * W, 64));
      dispatch(enc, sums, bindGroup(gpu, sums, [u, xb, base, undefined, sb]), grid(gpu.ctx, rows * s.groups, 64));
      const [c, sc, b] = await readBack(gpu.ctx, gpu.pool, enc, [
        { buffer: cb, bytes: rows * W * 4 },
        { buffer: sb, bytes: rows * s.groups * 4 },
        { buffer: bad, bytes: 4 },
      ]);
      gpu.pool.release(xb, cb, sb, bad, u);
      const badRow = new Uint32Array(b.buffer, b.byteOffset, 1)[0];
      if (badRow !== NONE) {
        throw new DsoError('NON_FINITE', `x holds a NaN or infinite value (or x - baseline overflows) in row ${r0 + badRow}`);
      }
      codes.set(fromWordRows(c, rows, s.dim), r0 * s.bytesPerRow);
      scales.set(new Float32Array(sc.buffer, sc.byteOffset, rows * s.groups), r0 * s.groups);
    }
  } finally {
    gpu.pool.release(base);
  }
  return { codes, scales };
}

export async function gpuDequantize(
  gpu: Gpu,
  codes: Uint8Array,
  scales: Float32Array,
  s: PackShape,
  baseline?: Float32Array,
): Promise<Float32Array> {
  const out = new Float32Array(s.rows * s.dim);
  const step = rowsPerChunk(gpu, s.dim * 4);
  const pipeline = gpu.pipelines.get('dequantize', 'dequantize');
  const base = gpu.pool.upload(baseline ?? new Float32Array(1));
  try {
    for (let r0 = 0; r0 < s.rows; r0 += step) {
      ensureHealthy(gpu);
      const rows = Math.min(step, s.rows - r0);
      const cb = gpu.pool.upload(toWordRows(codes.subarray(r0 * s.bytesPerRow, (r0 + rows) * s.bytesPerRow), rows, s.dim));
      const sb = gpu.pool.upload(scales.subarray(r0 * s.groups, (r0 + rows) * s.groups));
      const ob = gpu.pool.storage(rows * s.dim * 4);
      const u = gpu.pool.uniform(params(s, rows, baseline !== undefined));
      const enc = gpu.ctx.device.createCommandEncoder();
      dispatch(enc, pipeline, bindGroup(gpu, pipeline, [u, cb, sb, base, ob]), grid(gpu.ctx, rows * s.dim, 64));
      const [o] = await readBack(gpu.ctx, gpu.pool, enc, [{ buffer: ob, bytes: rows * s.dim * 4 }]);
      gpu.pool.release(cb, sb, ob, u);
      out.set(new Float32Array(o.buffer, o.byteOffset, rows * s.dim), r0 * s.dim);
    }
  } finally {
    gpu.pool.release(base);
  }
  return out;
}
