/**
 * Median, trimmed mean (n <= 64 rows, a program written per n) and majority on the GPU. Coordinates
 * are split into blocks whose n x block matrix fits one binding; each block is
 * gathered from the row-major input with one write per row.
 */
import { bytesPerRow } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { grid, readBack } from './buffers.js';
import { lastWordMask, toWordRows, wordsPerRow } from './codes.js';
import { bindGroup, dispatch, ensureHealthy, type Gpu, rowsPerChunk } from './gpu.js';
import { oddEvenMergeSort, pruneTo } from './sorting-network.js';

const NONE = 0xffffffff;
export const GPU_MAX_ROWS = 64;

/** The body of median.wgsl's `column` for n rows: the median, or the mean of sorted positions [cut, n - cut). */
function columnCode(n: number, trimCut: number | undefined): string {
  const h = n >> 1;
  const lo = trimCut ?? (n % 2 ? h : h - 1);
  const hi = trimCut === undefined ? h + 1 : n - trimCut;
  const wanted = Array.from({ length: hi - lo }, (_, i) => lo + i);
  const lines = Array.from({ length: n }, (_, i) => `  var v${i} = load(${i}u, j);`);
  for (const [a, b] of pruneTo(oddEvenMergeSort(n), wanted)) {
    lines.push(`  { let m = min(v${a}, v${b}); v${b} = max(v${a}, v${b}); v${a} = m; }`);
  }
  if (trimCut === undefined) {
    lines.push(n % 2 ? `  outValues[j] = v${h};` : `  outValues[j] = (v${h - 1} + v${h}) * 0.5;`);
  } else {
    lines.push(`  var s = 0.0;`, ...wanted.map((i) => `  s += v${i};`), `  outValues[j] = s / ${wanted.length}.0;`);
  }
  return lines.join('\n');
}

/** One block of columns on the GPU: n x w values uploaded, the statistic's program bound. */
export interface ColumnBlock {
  out: GPUBuffer;
  bad: GPUBuffer;
  /** Records the kernel into `enc`; recording it again repeats it (how the benchmark times it apart from uploads). */
  encode(enc: GPUCommandEncoder): void;
  release(): void;
}

/** Uploads an n x w block (row-major) and binds the median (trimCut undefined) or trimmed-mean program for it. */
export function prepareColumnBlock(gpu: Gpu, block: Float32Array, n: number, w: number, trimCut: number | undefined): ColumnBlock {
  const variant = `n=${n},${trimCut === undefined ? 'median' : `cut=${trimCut}`}`;
  const pipeline = gpu.pipelines.getGenerated('median', 'COLUMN:', variant, () => columnCode(n, trimCut), 'column');
  const rb = gpu.pool.upload(block);
  const out = gpu.pool.storage(w * 4);
  const bad = gpu.pool.upload(new Uint32Array([NONE]));
  const u = gpu.pool.uniform([w, 0, 0, 0]);
  const group = bindGroup(gpu, pipeline, [u, rb, out, bad]);
  return {
    out,
    bad,
    encode: (enc) => dispatch(enc, pipeline, group, grid(gpu.ctx, w, 64)),
    release: () => gpu.pool.release(rb, out, bad, u),
  };
}

export async function gpuColumnStatistic(gpu: Gpu, rows: Float32Array, n: number, trimCut: number | undefined): Promise<Float32Array> {
  const d = rows.length / n;
  const out = new Float32Array(d);
  const block = Math.min(d, rowsPerChunk(gpu, n * 4));
  // Only a split needs a gathered copy; one block is the input as it is.
  const staging = block < d ? new Float32Array(n * block) : undefined;
  for (let j0 = 0; j0 < d; j0 += block) {
    ensureHealthy(gpu);
    const w = Math.min(block, d - j0);
    const m = staging ? staging.subarray(0, n * w) : rows;
    if (staging) for (let i = 0; i < n; i++) m.set(rows.subarray(i * d + j0, i * d + j0 + w), i * w);
    const job = prepareColumnBlock(gpu, m, n, w, trimCut);
    const enc = gpu.ctx.device.createCommandEncoder();
    job.encode(enc);
    const [o, b] = await readBack(gpu.ctx, gpu.pool, enc, [
      { buffer: job.out, bytes: w * 4 },
      { buffer: job.bad, bytes: 4 },
    ]);
    job.release();
    const badAt = new Uint32Array(b.buffer, b.byteOffset, 1)[0];
    if (badAt !== NONE) {
      const i = Math.floor(badAt / w);
      throw new DsoError('NON_FINITE', `rows holds a NaN or infinite value at flat index ${i * d + j0 + (badAt % w)}`);
    }
    out.set(new Float32Array(o.buffer, o.byteOffset, w), j0);
  }
  return out;
}

export async function gpuMajority(gpu: Gpu, codes: Uint8Array, n: number, dim: number): Promise<Uint8Array> {
  const W = wordsPerRow(dim);
  const B = bytesPerRow(dim);
  const words = toWordRows(codes, n, dim);
  const out = new Uint32Array(W);
  let planes = 1;
  while (2 ** planes <= n) planes++;
  const pipeline = gpu.pipelines.get('majority', 'majority');
  const block = Math.min(W, rowsPerChunk(gpu, n * 4));
  const staging = block < W ? new Uint32Array(n * block) : undefined;
  for (let w0 = 0; w0 < W; w0 += block) {
    ensureHealthy(gpu);
    const w = Math.min(block, W - w0);
    const m = staging ? staging.subarray(0, n * w) : words;
    if (staging) for (let i = 0; i < n; i++) m.set(words.subarray(i * W + w0, i * W + w0 + w), i * w);
    const cb = gpu.pool.upload(m);
    const ob = gpu.pool.storage(w * 4);
    const mask = w0 + w === W ? lastWordMask(dim) : 0xffffffff;
    const u = gpu.pool.uniform([n, w, Math.ceil(n / 2), planes, mask, 0, 0, 0]);
    const enc = gpu.ctx.device.createCommandEncoder();
    dispatch(enc, pipeline, bindGroup(gpu, pipeline, [u, cb, ob]), grid(gpu.ctx, w, 64));
    const [o] = await readBack(gpu.ctx, gpu.pool, enc, [{ buffer: ob, bytes: w * 4 }]);
    gpu.pool.release(cb, ob, u);
    out.set(new Uint32Array(o.buffer, o.byteOffset, w), w0);
  }
  return new Uint8Array(out.buffer, 0, B).slice();
}
