/**
 * Median, trimmed mean (n <= 64 rows, a program written per n and vector
 * width) and majority on the GPU. Coordinates are split into blocks whose
 * n x block matrix fits one binding; a block's rows are written into place
 * on the device one row segment at a time (no gathered copy on the host).
 * Results are read from the mapped range straight into the output.
 */
import { bytesPerRow } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { grid, into } from './buffers.js';
import { lastWordMask, toWordRows, wordsPerRow } from './codes.js';
import { bindGroup, dispatch, ensureHealthy, type Gpu, readResults, rowsPerChunk, streamWorkgroups } from './gpu.js';
import { defineParams } from './params.js';
import { oddEvenMergeSort, pruneTo } from './sorting-network.js';

const NONE = 0xffffffff;
export const GPU_MAX_ROWS = 64;
/** Floats one invocation holds (n x V): past this, register pressure would cost more than narrower loads save. */
const REGISTER_FLOATS = 128;

/** median.wgsl's uniforms: column groups (of V columns) in the block, i.e. its row length in vectors, and its columns. */
const COLUMN_PARAMS = defineParams({ groups: 'u32', d: 'u32' });
/** majority.wgsl's uniforms: rows, words per row in the block, ceil(n/2), counter bit planes, valid bits of the block's last word. */
const MAJORITY_PARAMS = defineParams({ n: 'u32', words: 'u32', threshold: 'u32', planes: 'u32', lastMask: 'u32' });

/** Columns per invocation for n rows of d columns: 4, 2 or 1, as the row length and the register budget allow. */
export function columnWidth(n: number, d: number): 1 | 2 | 4 {
  if (d % 4 === 0 && n * 4 <= REGISTER_FLOATS) return 4;
  if (d % 2 === 0 && n * 2 <= REGISTER_FLOATS) return 2;
  return 1;
}

/** median.wgsl's generated parts for n rows and width V: the median, or the mean of sorted positions [cut, n - cut). */
function columnCode(n: number, V: number, trimCut: number | undefined): Record<string, string> {
  const vt = V === 1 ? 'f32' : `vec${V}<f32>`;
  const ut = V === 1 ? 'u32' : `vec${V}<u32>`;
  const bt = V === 1 ? 'bool' : `vec${V}<bool>`;
  const shape = [
    `const N: u32 = ${n}u;`,
    `const V: u32 = ${V}u;`,
    `alias VT = ${vt};`,
    `fn lane(v: VT, l: u32) -> f32 { return ${V === 1 ? 'v' : 'v[l]'}; }`,
    `fn nonFinite(v: VT) -> ${bt} { return (bitcast<${ut}>(v) & ${ut}(0x7f800000u)) == ${ut}(0x7f800000u); }`,
  ].join('\n');
  const h = n >> 1;
  const lo = trimCut ?? (n % 2 ? h : h - 1);
  const hi = trimCut === undefined ? h + 1 : n - trimCut;
  const wanted = Array.from({ length: hi - lo }, (_, i) => lo + i);
  const lines = Array.from({ length: n }, (_, i) => `    var v${i} = rows[${i}u * p.groups + g];`);
  lines.push(`    var bad = nonFinite(v0);`, ...Array.from({ length: n - 1 }, (_, i) => `    bad = bad | nonFinite(v${i + 1});`));
  lines.push(`    if (any(bad)) {`, `      reportBad(g);`, `    }`);
  for (const [a, b] of pruneTo(oddEvenMergeSort(n), wanted)) {
    lines.push(`    { let m = min(v${a}, v${b}); v${b} = max(v${a}, v${b}); v${a} = m; }`);
  }
  if (trimCut === undefined) {
    lines.push(n % 2 ? `    outValues[g] = v${h};` : `    outValues[g] = (v${h - 1} + v${h}) * 0.5;`);
  } else {
    lines.push(`    var s = VT(0.0);`, ...wanted.map((i) => `    s += v${i};`), `    outValues[g] = s / ${wanted.length}.0;`);
  }
  return { 'SHAPE:': shape, 'COLUMN:': lines.join('\n') };
}

/** One block of columns on the GPU: n x w values uploaded, the statistic's program bound. */
export interface ColumnBlock {
  out: GPUBuffer;
  bad: GPUBuffer;
  /** Records the kernel into `enc`; recording it again repeats it (how the benchmark times it apart from uploads). */
  encode: (enc: GPUCommandEncoder) => void;
  release(): void;
}

/**
 * Uploads columns [j0, j0 + w) of the n rows of `rows` (d per row) as an
 * n x w block, and binds the median (trimCut undefined) or trimmed-mean
 * program for it. `V` (columns per invocation) must divide w.
 */
export async function prepareColumnBlock(
  gpu: Gpu,
  rows: Float32Array,
  n: number,
  d: number,
  j0: number,
  w: number,
  trimCut: number | undefined,
  V: 1 | 2 | 4 = columnWidth(n, w),
): Promise<ColumnBlock> {
  const variant = `n=${n},V=${V},${trimCut === undefined ? 'median' : `cut=${trimCut}`}`;
  const pipeline = gpu.pipelines.getGenerated('median', COLUMN_PARAMS, variant, () => columnCode(n, V, trimCut), 'column');
  const rb = gpu.pool.storage(n * w * 4);
  const out = gpu.pool.storage(w * 4);
  const bad = gpu.pool.storage(4);
  const u = gpu.pool.uniform(COLUMN_PARAMS.encode({ groups: w / V, d: w }));
  const release = () => gpu.pool.release(rb, out, bad, u);
  try {
    if (w === d) await gpu.pool.write(rb, 0, rows.subarray(0, n * d));
    else for (let i = 0; i < n; i++) await gpu.pool.write(rb, i * w * 4, rows.subarray(i * d + j0, i * d + j0 + w));
    gpu.pool.writeSmall(bad, 0, new Uint8Array(new Uint32Array([NONE]).buffer));
  } catch (e) {
    release();
    throw e;
  }
  const group = bindGroup(gpu, pipeline, [u, rb, out, bad]);
  const workgroups = streamWorkgroups(gpu, w / V);
  return { out, bad, encode: (enc) => dispatch(gpu, enc, pipeline, group, [workgroups, 1]), release };
}

export async function gpuColumnStatistic(
  gpu: Gpu,
  rows: Float32Array,
  n: number,
  trimCut: number | undefined,
  out?: Float32Array,
): Promise<Float32Array> {
  const d = rows.length / n;
  const result = out ?? new Float32Array(d);
  const V = columnWidth(n, d);
  // Blocks of whole column groups that fit one binding.
  const block = Math.min(d, Math.max(V, Math.floor(rowsPerChunk(gpu, n * 4) / V) * V));
  const bad = new Uint32Array(1);
  for (let j0 = 0; j0 < d; j0 += block) {
    ensureHealthy(gpu);
    const w = Math.min(block, d - j0);
    const job = await prepareColumnBlock(gpu, rows, n, d, j0, w, trimCut, V);
    const enc = gpu.ctx.device.createCommandEncoder();
    job.encode(enc);
    try {
      await readResults(gpu, enc, [
        { buffer: job.out, bytes: w * 4, read: into(result.subarray(j0, j0 + w)) },
        { buffer: job.bad, bytes: 4, read: into(bad) },
      ]);
    } finally {
      job.release();
    }
    if (bad[0] !== NONE) {
      const i = Math.floor(bad[0] / w);
      throw new DsoError('NON_FINITE', `rows holds a NaN or infinite value at flat index ${i * d + j0 + (bad[0] % w)}`);
    }
  }
  return result;
}

export async function gpuMajority(gpu: Gpu, codes: Uint8Array, n: number, dim: number, out?: Uint8Array): Promise<Uint8Array> {
  const W = wordsPerRow(dim);
  const B = bytesPerRow(dim);
  const words = toWordRows(codes, n, dim);
  const result = new Uint32Array(W);
  let planes = 1;
  while (2 ** planes <= n) planes++;
  const pipeline = gpu.pipelines.get('majority', MAJORITY_PARAMS, 'majority');
  const block = Math.min(W, rowsPerChunk(gpu, n * 4));
  for (let w0 = 0; w0 < W; w0 += block) {
    ensureHealthy(gpu);
    const w = Math.min(block, W - w0);
    const cb = gpu.pool.storage(n * w * 4);
    const ob = gpu.pool.storage(w * 4);
    const mask = w0 + w === W ? lastWordMask(dim) : 0xffffffff;
    const u = gpu.pool.uniform(MAJORITY_PARAMS.encode({ n, words: w, threshold: Math.ceil(n / 2), planes, lastMask: mask }));
    try {
      if (w === W) await gpu.pool.write(cb, 0, words);
      else for (let i = 0; i < n; i++) await gpu.pool.write(cb, i * w * 4, words.subarray(i * W + w0, i * W + w0 + w));
      const enc = gpu.ctx.device.createCommandEncoder();
      dispatch(gpu, enc, pipeline, bindGroup(gpu, pipeline, [u, cb, ob]), grid(gpu.ctx, w, 64));
      await readResults(gpu, enc, [{ buffer: ob, bytes: w * 4, read: into(result.subarray(w0, w0 + w)) }]);
    } finally {
      gpu.pool.release(cb, ob, u);
    }
  }
  const bytes = new Uint8Array(result.buffer, 0, B);
  if (!out) return bytes.slice();
  out.set(bytes);
  return out;
}
