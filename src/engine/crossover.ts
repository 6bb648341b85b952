/**
 * Where the GPU beats the native backend, per operation, as the work size
 * (bytes the operation reads; for Hamming, base bytes x queries) from which
 * the GPU is used; and, beside it, where the Hamming filter's subgroup path
 * beats the plain one. Kept here, in one place. A software adapter (lavapipe)
 * runs on the same CPU cores as native and never qualifies. For a hardware
 * adapter both are measured on first use, once per process, on the work the
 * engine would do: host data in and results out, transfers included (only
 * the resident search leaves its one upload out, as resident searches do).
 */
import type { PackShape } from '../core/checks.js';
import type { Gpu } from '../gpu/gpu.js';
import { gpuHammingTopK, type SubgroupPick } from '../gpu/hamming.js';
import { releaseCodes, uploadCodes } from '../gpu/resident-codes.js';
import type { Backend, DeviceCodes } from './backend.js';

export type Operation = 'quantize' | 'dequantize' | 'hammingTopK' | 'hammingResident' | 'median' | 'trimmedMean' | 'majority';
export type Crossover = Record<Operation, number>;

export const NEVER: Crossover = {
  quantize: Infinity,
  dequantize: Infinity,
  hammingTopK: Infinity,
  hammingResident: Infinity,
  median: Infinity,
  trimmedMean: Infinity,
  majority: Infinity,
};

/** Below this much work the GPU is not even opened. */
export const MIN_GPU_WORK = 1 << 20;

/** Work sizes timed by calibrate() on a hardware adapter (a software one, measured only in tests, gets the first two). */
export const CALIBRATION_WORK = [1 << 20, 1 << 22, 1 << 24, 1 << 26];

async function seconds(fn: () => Promise<unknown>, reps = 2): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
  }
  return best / 1000;
}

function inputs(work: number) {
  const dim = 384;
  const rows = Math.max(1, Math.floor(work / (dim * 4)));
  const x = new Float32Array(rows * dim).map((_, i) => Math.sin(i * 12.9898) * 2);
  const shape: PackShape = { rows, dim, groupSize: dim, groups: 1, bytesPerRow: dim / 8 };
  const codes = new Uint8Array(Math.max(48, Math.floor(work / 16 / 48) * 48)).map((_, i) => (i * 2654435761) >>> 24);
  const queries = codes.slice(0, 16 * 48);
  // The resident search reads `work` bytes of codes per query; in shared memory, as uploadCodes keeps them (native shards them).
  const resident = new Uint8Array(new SharedArrayBuffer(Math.max(48, Math.floor(work / 48) * 48)));
  resident.forEach((_, i) => (resident[i] = (i * 2246822519) >>> 24));
  const n = 64;
  const columns = new Float32Array(Math.max(n, Math.floor(work / 4 / n) * n)).map((_, i) => Math.cos(i * 78.233));
  const votes = new Uint8Array(Math.max(n * 48, Math.floor(work / (n * 48)) * n * 48)).map((_, i) => (i * 40503) >>> 8);
  return { x, shape, codes, queries, resident, n, columns, votes };
}

/**
 * The crossover per operation: the smallest measured size from which the GPU
 * won at that size and at every larger one (Infinity if it lost at the
 * largest), so auto never moves work to the GPU at a size where it was
 * measured slower than native.
 */
export async function calibrate(native: Backend, gpu: Backend, sizes = CALIBRATION_WORK): Promise<Crossover> {
  const wins: Record<Operation, boolean[]> = {
    quantize: [],
    dequantize: [],
    hammingTopK: [],
    hammingResident: [],
    median: [],
    trimmedMean: [],
    majority: [],
  };
  for (const work of sizes) {
    const d = inputs(work);
    const q = await native.quantize(d.x, d.shape);
    const device: DeviceCodes = await gpu.upload?.(d.resident, 384);
    const one = d.queries.subarray(0, 48);
    const ops: Record<Operation, (b: Backend) => Promise<unknown>> = {
      quantize: (b) => b.quantize(d.x, d.shape),
      dequantize: (b) => b.dequantize(q.codes, q.scales, d.shape),
      hammingTopK: (b) => b.hammingTopK(d.codes, d.queries, 384, 10),
      hammingResident: (b) => (b === gpu ? b.hammingTopK(d.resident, one, 384, 10, device) : b.hammingTopK(d.resident, one, 384, 10)),
      median: (b) => b.median(d.columns, d.n),
      trimmedMean: (b) => b.trimmedMean(d.columns, d.n, 0.1),
      majority: (b) => b.majority(d.votes, d.n, (d.votes.length / d.n) * 8),
    };
    try {
      for (const op of Object.keys(ops) as Operation[]) {
        wins[op].push((await seconds(() => ops[op](gpu))) < (await seconds(() => ops[op](native))));
      }
    } finally {
      gpu.release?.(device);
    }
  }
  const result: Crossover = { ...NEVER };
  for (const op of Object.keys(wins) as Operation[]) result[op] = crossoverFrom(wins[op], sizes);
  return result;
}

/** The smallest size from which every measured size was a GPU win (`wins[i]` at `sizes[i]`, ascending); Infinity if the largest was lost. */
export function crossoverFrom(wins: boolean[], sizes: number[]): number {
  let from = Infinity;
  for (let i = wins.length - 1; i >= 0 && wins[i]; i--) from = sizes[i];
  return from;
}

/** Measured per base size (rows): whether the subgroup path won for one query and for a batch. */
export type SubgroupChoice = Array<{ rows: number; single: boolean; batch: boolean }>;

/** Base sizes and batch size the subgroup path is measured at (the H200 had it 5.6x slower at 1M rows, faster at 10M for one query). */
const SUBGROUP_ROWS = [1 << 16, 1 << 20, 1 << 23];
const SUBGROUP_BATCH = 64;

/** The measured choice as a pick: the entry of the largest measured size at or below n (the smallest for smaller bases). */
export function subgroupPick(choice: SubgroupChoice): SubgroupPick {
  return (n, m) => {
    let entry = choice[0];
    for (const c of choice) if (c.rows <= n) entry = c;
    return entry !== undefined && (m <= 4 ? entry.single : entry.batch);
  };
}

/** Times the subgroup and plain filter on random codes of each size (k = 10, 384 bits), on a device with subgroups. */
export async function measureSubgroups(gpu: Gpu): Promise<SubgroupChoice> {
  const dim = 384;
  const out: SubgroupChoice = [];
  for (const rows of SUBGROUP_ROWS) {
    if (rows * 48 > gpu.ctx.limits.maxBufferSize / 2) break;
    const codes = new Uint8Array(rows * 48);
    const words = new Uint32Array(codes.buffer);
    let s = 0x9e3779b9;
    for (let i = 0; i < words.length; i++) words[i] = s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const gc = await uploadCodes(gpu, codes, dim);
    try {
      const time = (m: number, subgroups: boolean) =>
        seconds(() => gpuHammingTopK(gpu, gc, codes.subarray(0, m * 48), 10, { subgroups: () => subgroups }), 3);
      const single = (await time(1, true)) < (await time(1, false));
      const batch = (await time(SUBGROUP_BATCH, true)) < (await time(SUBGROUP_BATCH, false));
      out.push({ rows, single, batch });
    } finally {
      releaseCodes(gpu, gc);
    }
  }
  return out;
}
