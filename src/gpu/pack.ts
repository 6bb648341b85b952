/** Packing and dequantizing on the GPU, in row chunks that fit one binding; results read from the mapped range into place. */
import type { PackShape } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { grid, into } from './buffers.js';
import { toWordRows, wordsPerRow } from './codes.js';
import { bindGroup, computePass, ensureHealthy, type Gpu, readResults, rowsPerChunk } from './gpu.js';
import { defineParams } from './params.js';

const NONE = 0xffffffff;

/** pack.wgsl's and dequantize.wgsl's uniforms. */
const PARAMS = defineParams({ rows: 'u32', dim: 'u32', words: 'u32', groupSize: 'u32', groups: 'u32', hasBaseline: 'u32' });

function params(s: PackShape, rows: number, hasBaseline: boolean): Uint8Array {
  return PARAMS.encode({
    rows,
    dim: s.dim,
    words: wordsPerRow(s.dim),
    groupSize: s.groupSize,
    groups: s.groups,
    hasBaseline: hasBaseline ? 1 : 0,
  });
}

/** Word rows (ceil(dim/32) u32 each) as mapped, into byte rows of `codes` from row r0. */
function codeRows(codes: Uint8Array, r0: number, rows: number, s: PackShape): (mapped: Uint8Array) => void {
  const W4 = wordsPerRow(s.dim) * 4;
  const B = s.bytesPerRow;
  if (B === W4) return into(codes.subarray(r0 * B, (r0 + rows) * B));
  return (mapped) => {
    for (let r = 0; r < rows; r++) codes.set(mapped.subarray(r * W4, r * W4 + B), (r0 + r) * B);
  };
}

export async function gpuPack(
  gpu: Gpu,
  x: Float32Array,
  s: PackShape,
  baseline?: Float32Array,
  out?: { codes: Uint8Array; scales: Float32Array },
): Promise<{ codes: Uint8Array; scales: Float32Array }> {
  const W = wordsPerRow(s.dim);
  const { codes, scales } = out ?? { codes: new Uint8Array(s.rows * s.bytesPerRow), scales: new Float32Array(s.rows * s.groups) };
  const step = rowsPerChunk(gpu, s.dim * 4);
  const bits = gpu.pipelines.get('pack', PARAMS, 'packBits');
  const sums = gpu.pipelines.get('pack', PARAMS, 'packScales');
  const base = await gpu.pool.upload(baseline ?? new Float32Array(1));
  const badRow = new Uint32Array(1);
  try {
    for (let r0 = 0; r0 < s.rows; r0 += step) {
      ensureHealthy(gpu);
      const rows = Math.min(step, s.rows - r0);
      const xb = await gpu.pool.upload(x.subarray(r0 * s.dim, (r0 + rows) * s.dim));
      const cb = gpu.pool.storage(rows * W * 4);
      const sb = gpu.pool.storage(rows * s.groups * 4);
      const bad = gpu.pool.storage(4);
      gpu.pool.writeSmall(bad, 0, new Uint8Array(new Uint32Array([NONE]).buffer));
      const u = gpu.pool.uniform(params(s, rows, baseline !== undefined));
      const enc = gpu.ctx.device.createCommandEncoder();
      computePass(gpu, enc, [
        [bits, bindGroup(gpu, bits, [u, xb, base, cb, undefined, bad]), grid(gpu.ctx, rows * W, 64)],
        [sums, bindGroup(gpu, sums, [u, xb, base, undefined, sb]), grid(gpu.ctx, rows * s.groups, 64)],
      ]);
      try {
        await readResults(gpu, enc, [
          { buffer: cb, bytes: rows * W * 4, read: codeRows(codes, r0, rows, s) },
          { buffer: sb, bytes: rows * s.groups * 4, read: into(scales.subarray(r0 * s.groups, (r0 + rows) * s.groups)) },
          { buffer: bad, bytes: 4, read: into(badRow) },
        ]);
      } finally {
        gpu.pool.release(xb, cb, sb, bad, u);
      }
      if (badRow[0] !== NONE) {
        throw new DsoError('NON_FINITE', `x holds a NaN or infinite value (or x - baseline overflows) in row ${r0 + badRow[0]}`);
      }
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
  out?: Float32Array,
): Promise<Float32Array> {
  const result = out ?? new Float32Array(s.rows * s.dim);
  const step = rowsPerChunk(gpu, s.dim * 4);
  const pipeline = gpu.pipelines.get('dequantize', PARAMS, 'dequantize');
  const base = await gpu.pool.upload(baseline ?? new Float32Array(1));
  try {
    for (let r0 = 0; r0 < s.rows; r0 += step) {
      ensureHealthy(gpu);
      const rows = Math.min(step, s.rows - r0);
      const cb = await gpu.pool.upload(toWordRows(codes.subarray(r0 * s.bytesPerRow, (r0 + rows) * s.bytesPerRow), rows, s.dim));
      const sb = await gpu.pool.upload(scales.subarray(r0 * s.groups, (r0 + rows) * s.groups)).catch((e: unknown) => {
        gpu.pool.release(cb);
        throw e;
      });
      const ob = gpu.pool.storage(rows * s.dim * 4);
      const u = gpu.pool.uniform(params(s, rows, baseline !== undefined));
      const enc = gpu.ctx.device.createCommandEncoder();
      computePass(gpu, enc, [[pipeline, bindGroup(gpu, pipeline, [u, cb, sb, base, ob]), grid(gpu.ctx, rows * s.dim, 64)]]);
      try {
        await readResults(gpu, enc, [
          { buffer: ob, bytes: rows * s.dim * 4, read: into(result.subarray(r0 * s.dim, (r0 + rows) * s.dim)) },
        ]);
      } finally {
        gpu.pool.release(cb, sb, ob, u);
      }
    }
  } finally {
    gpu.pool.release(base);
  }
  return result;
}
