/**
 * Where the GPU beats the native backend, per operation, as the work size
 * (bytes the operation reads; for Hamming, base bytes x queries) from which
 * the GPU is used. Kept here, in one place. A software adapter (lavapipe)
 * runs on the same CPU cores as native and never qualifies. For a hardware
 * adapter the crossover is measured on first use, once per engine, by timing
 * both backends at growing sizes.
 */
import type { PackShape } from '../core/checks.js';
import type { Backend } from './backend.js';

export type Operation = 'quantize' | 'dequantize' | 'hammingTopK' | 'median' | 'trimmedMean' | 'majority';
export type Crossover = Record<Operation, number>;

export const NEVER: Crossover = {
  quantize: Infinity,
  dequantize: Infinity,
  hammingTopK: Infinity,
  median: Infinity,
  trimmedMean: Infinity,
  majority: Infinity,
};

/** Below this much work the GPU is not even opened. */
export const MIN_GPU_WORK = 1 << 20;

/** Work sizes timed by calibrate(); the crossover is the first at which the GPU wins. */
const CALIBRATION_WORK = [1 << 20, 1 << 22, 1 << 24];

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < 2; i++) {
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
  const n = 64;
  const columns = new Float32Array(Math.max(n, Math.floor(work / 4 / n) * n)).map((_, i) => Math.cos(i * 78.233));
  const votes = new Uint8Array(Math.max(n * 48, Math.floor(work / (n * 48)) * n * 48)).map((_, i) => (i * 40503) >>> 8);
  return { x, shape, codes, queries, n, columns, votes };
}

export async function calibrate(native: Backend, gpu: Backend): Promise<Crossover> {
  const result: Crossover = { ...NEVER };
  for (const work of CALIBRATION_WORK) {
    const d = inputs(work);
    const q = await native.quantize(d.x, d.shape);
    const ops: Record<Operation, (b: Backend) => Promise<unknown>> = {
      quantize: (b) => b.quantize(d.x, d.shape),
      dequantize: (b) => b.dequantize(q.codes, q.scales, d.shape),
      hammingTopK: (b) => b.hammingTopK(d.codes, d.queries, 384, 10),
      median: (b) => b.median(d.columns, d.n),
      trimmedMean: (b) => b.trimmedMean(d.columns, d.n, 0.1),
      majority: (b) => b.majority(d.votes, d.n, (d.votes.length / d.n) * 8),
    };
    for (const op of Object.keys(ops) as Operation[]) {
      if (result[op] !== Infinity) continue;
      if ((await seconds(() => ops[op](gpu))) < (await seconds(() => ops[op](native)))) result[op] = work;
    }
  }
  return result;
}
