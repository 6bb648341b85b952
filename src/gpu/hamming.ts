/**
 * Hamming top-k on the GPU. A base of codes is uploaded once into segments
 * that each fit one binding, laid out word-major with a pitch (the segment's
 * capacity) so rows can be appended later without moving the others
 * (resident-codes.ts); searches then send only the queries. Per block of
 * queries, the pruned path (hamming-prune.wgsl: a bound from a sample, a
 * filter over the base with queries tiled in workgroup memory, a selection
 * over the few candidates) runs in one compute pass of one submission with
 * one small readback, read straight into the result arrays. A resident base
 * keeps the bound buffers of its recent block shapes (plans), so a repeated
 * single query writes its query words and records three dispatches. Queries
 * whose candidate lists overflowed (many rows tied at the bound) go through
 * the exact chunked path (hamming.wgsl) in a second round.
 */
import { bytesPerRow } from '../core/checks.js';
import { into } from './buffers.js';
import { lastWordMask, toWordRows, wordsPerRow } from './codes.js';
import { bindGroup, computePass, type Dispatch, ensureHealthy, type Gpu, readResults } from './gpu.js';
import { defineParams, type ValuesOf } from './params.js';
import { acquireView, type CodesView, type GpuCodes, type KeptPlan, releaseView } from './resident-codes.js';

const KMAX = 256;
/** Rows in the bound's sample: an eighth of the base, at least 1,024 and at most 16,384 (a 16 KiB scan per query at 384 bits). */
function sampleRows(n: number, firstSegment: number): number {
  return Math.min(firstSegment, Math.max(1024, Math.min(16384, Math.floor(n / 8))));
}
/** Sampled rows come in runs of this many adjacent rows (SAMPLE_RUN in hamming-prune.wgsl). */
const SAMPLE_RUN = 256;
const QT_MAX = 16;
/** Plans kept per resident base, and the scratch one plan may hold to be kept. */
const PLANS_KEPT = 4;
const PLAN_BYTES_KEPT = 16 << 20;

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

/**
 * Candidate slots per query. The bound is the kk-th smallest of `sample`
 * distances, so about n * kk / sample rows pass, but the kk-th order
 * statistic has a long upper tail for small kk (kk + 3 sqrt(kk) + 7 covers
 * it to about 1 in 1,000), and the whole bin at the bound passes (x3). An
 * overflow costs the exact path, never a wrong answer.
 */
export function pruneCapacity(view: CodesView, k: number): number {
  return capacity(view.n, k, sampleRows(view.n, view.segments[0].rows));
}

function capacity(n: number, k: number, sample: number): number {
  const kk = Math.min(k, sample);
  const expected = (n * (kk + 3 * Math.sqrt(kk) + 7)) / sample;
  return Math.min(n, Math.max(64, 4 * k, Math.ceil(3 * expected)));
}

/** The sample of the first segment: `sample` rows in runs of SAMPLE_RUN, run starts `stride` apart, all distinct rows. */
function sampleShape(n: number, firstRows: number): { sample: number; stride: number } {
  const sample = sampleRows(n, firstRows);
  if (sample >= firstRows) return { sample: firstRows, stride: SAMPLE_RUN };
  const whole = Math.floor(sample / SAMPLE_RUN) * SAMPLE_RUN;
  return { sample: whole, stride: Math.floor(firstRows / (whole / SAMPLE_RUN)) };
}

/** hamming.wgsl's uniforms (hamming-prune.wgsl reads them too). */
const PARAMS = defineParams({
  /** Rows in this base segment. */
  n: 'u32',
  k: 'u32',
  /** Valid bits of a row's last word. */
  lastMask: 'u32',
  /** Global id of the segment's first row. */
  rowBase: 'u32',
  /** Global index of the segment's first chunk. */
  chunkBase: 'u32',
  /** Chunks over all segments. */
  chunks: 'u32',
  /** Queries in this block (pruned path). */
  nq: 'u32',
  /** Candidate slots per query (pruned path). */
  cap: 'u32',
  /** Rows in the bound's sample (pruned path). */
  sample: 'u32',
  /** Between the starts of sampled runs of SAMPLE_RUN rows (pruned path). */
  stride: 'u32',
  /** Word-major row pitch of the segment (its capacity). */
  pitch: 'u32',
});
type Params = ValuesOf<typeof PARAMS>;

/** The buffers and bindings of one pruned search of m queries: queries in, lists and results out. */
export interface PrunedSearch {
  readonly m: number;
  readonly qbuf: GPUBuffer;
  readonly outD: GPUBuffer;
  readonly outI: GPUBuffer;
  readonly counts: GPUBuffer;
  /** Records the search into `enc` as one compute pass; recording it again repeats it (the benchmark times kernels this way). */
  encode: (enc: GPUCommandEncoder) => void;
  release(): void;
}

/** Whether the filter's candidate appends use subgroup operations for a search of m queries over n rows. */
export type SubgroupPick = (n: number, m: number) => boolean;

/** Binds the pruned path for m queries (their words are written into `qbuf` per search): sampleBound, filterRows per segment, selectTopK. */
export function preparePrunedSearch(gpu: Gpu, view: CodesView, m: number, k: number, cap: number, subgroups: boolean): PrunedSearch {
  const { dim } = view;
  const W = wordsPerRow(dim);
  const qt = Math.min(QT_MAX, 2 ** Math.ceil(Math.log2(m)));
  const files = [subgroups && gpu.ctx.adapter.subgroups ? 'hamming-append-subgroups' : 'hamming-append', 'hamming', 'hamming-prune'];
  const constants = { WORDS: W, BINS: dim + 1 };
  const boundP = gpu.pipelines.get(files, PARAMS, 'sampleBound', constants);
  const filterP = gpu.pipelines.get(files, PARAMS, 'filterRows', { ...constants, QT: qt });
  const selectP = gpu.pipelines.get(files, PARAMS, 'selectTopK', constants);
  const first = view.segments[0];
  const { sample, stride } = sampleShape(view.n, first.rows);
  const mask = lastWordMask(dim);

  const qbuf = gpu.pool.storage(m * W * 4);
  const bounds = gpu.pool.storage(m * 4);
  const counts = gpu.pool.storage(m * 4);
  const candD = gpu.pool.storage(m * cap * 4);
  const candI = gpu.pool.storage(m * cap * 4);
  const outD = gpu.pool.storage(m * k * 4);
  const outI = gpu.pool.storage(m * k * 4);
  const uniforms: GPUBuffer[] = [];
  // Each entry point sets the fields it reads on top of these; the rest stay zero.
  const shared: Params = { n: 0, k, lastMask: mask, rowBase: 0, chunkBase: 0, chunks: 0, nq: m, cap, sample: 0, stride: 0, pitch: 0 };
  const group = (pipeline: GPUComputePipeline, fields: Partial<Params>, buffers: Array<GPUBuffer | undefined>): GPUBindGroup => {
    const u = gpu.pool.uniform(PARAMS.encode({ ...shared, ...fields }));
    uniforms.push(u);
    return bindGroup(gpu, pipeline, [u, ...buffers]);
  };
  const dispatches: Dispatch[] = [
    [
      boundP,
      group(boundP, { n: first.rows, sample, stride, pitch: first.pitch }, [
        first.buffer,
        qbuf,
        undefined,
        undefined,
        undefined,
        undefined,
        bounds,
        counts,
      ]),
      [m, 1],
    ],
    ...view.segments.map((s): Dispatch => [
      filterP,
      group(filterP, { n: s.rows, rowBase: s.rowBase, pitch: s.pitch }, [
        s.buffer,
        qbuf,
        candD,
        candI,
        undefined,
        undefined,
        bounds,
        counts,
      ]),
      [Math.ceil(m / qt), s.chunks],
    ]),
    [selectP, group(selectP, {}, [undefined, undefined, candD, candI, outD, outI, undefined, counts]), [m, 1]],
  ];
  return {
    m,
    qbuf,
    outD,
    outI,
    counts,
    encode: (enc) => computePass(gpu, enc, dispatches),
    release() {
      gpu.pool.release(qbuf, bounds, counts, candD, candI, outD, outI, ...uniforms);
    },
  };
}

interface Plan extends KeptPlan {
  search: PrunedSearch;
}

/**
 * A pruned search of m queries over the view: the resident base's kept plan
 * for this shape when it is free and the view is current, else a new one
 * (kept if small). `done` gives it back.
 */
function planFor(
  gpu: Gpu,
  codes: GpuCodes,
  view: CodesView,
  m: number,
  k: number,
  cap: number,
  subgroups: boolean,
): { search: PrunedSearch; done: () => void } {
  const key = `${view.version}:${m}:${k}:${cap}:${subgroups}`;
  const current = view.version === codes.version && !codes.released;
  const kept = current ? (codes.plans.get(key) as Plan | undefined) : undefined;
  if (kept && !kept.busy) {
    kept.busy = true;
    return { search: kept.search, done: () => giveBack(kept) };
  }
  const search = preparePrunedSearch(gpu, view, m, k, cap, subgroups);
  const W = wordsPerRow(view.dim);
  if (!current || kept || m * (2 * cap + 2 * k + 2 + W) * 4 > PLAN_BYTES_KEPT) return { search, done: () => search.release() };
  // The plan binds the view's segment buffers: it holds them as a search does.
  const held = acquireView(codes);
  const plan: Plan = {
    search,
    busy: true,
    dropped: false,
    free: () => {
      search.release();
      releaseView(gpu, held);
    },
  };
  codes.plans.set(key, plan);
  for (const [old, p] of codes.plans) {
    if (codes.plans.size <= PLANS_KEPT) break;
    if (p.busy) continue;
    codes.plans.delete(old);
    p.free();
  }
  return { search, done: () => giveBack(plan) };
}

function giveBack(plan: KeptPlan): void {
  plan.busy = false;
  if (plan.dropped) plan.free();
}

/** Queries [q0, q0 + m) of `words` through the pruned path, read into the result arrays; returns each query's list count. */
async function prunedBlock(
  gpu: Gpu,
  codes: GpuCodes,
  view: CodesView,
  words: Uint32Array,
  q0: number,
  m: number,
  k: number,
  cap: number,
  subgroups: boolean,
  result: { ids: Int32Array; distances: Int32Array },
): Promise<Uint32Array> {
  const W = wordsPerRow(view.dim);
  const { search, done } = planFor(gpu, codes, view, m, k, cap, subgroups);
  const counts = new Uint32Array(m);
  try {
    await gpu.pool.write(search.qbuf, 0, words.subarray(q0 * W, (q0 + m) * W));
    const enc = gpu.ctx.device.createCommandEncoder();
    search.encode(enc);
    // EMPTY (0xffffffff) read as an Int32 is -1, the missing-result value: results go straight into place.
    await readResults(gpu, enc, [
      { buffer: search.outD, bytes: m * k * 4, read: into(result.distances.subarray(q0 * k, (q0 + m) * k)) },
      { buffer: search.outI, bytes: m * k * 4, read: into(result.ids.subarray(q0 * k, (q0 + m) * k)) },
      { buffer: search.counts, bytes: m * 4, read: into(counts) },
    ]);
  } finally {
    done();
  }
  return counts;
}

/** Queries `rows` (indices into `words`) through the exact chunked path, read into their rows of the result arrays. */
async function exactBlock(
  gpu: Gpu,
  view: CodesView,
  words: Uint32Array,
  rows: number[],
  k: number,
  result: { ids: Int32Array; distances: Int32Array },
): Promise<void> {
  const { dim } = view;
  const W = wordsPerRow(dim);
  const m = rows.length;
  const constants = { WORDS: W, BINS: dim + 1 };
  const chunkP = gpu.pipelines.get('hamming', PARAMS, 'chunkTopK', constants);
  const mergeP = gpu.pipelines.get('hamming', PARAMS, 'mergeTopK', constants);
  const picked = new Uint32Array(m * W);
  rows.forEach((q, e) => picked.set(words.subarray(q * W, q * W + W), e * W));
  const qbuf = await gpu.pool.upload(picked);
  const candD = gpu.pool.storage(m * view.chunks * k * 4);
  const candI = gpu.pool.storage(m * view.chunks * k * 4);
  const outD = gpu.pool.storage(m * k * 4);
  const outI = gpu.pool.storage(m * k * 4);
  const uniforms: GPUBuffer[] = [];
  const mask = lastWordMask(dim);
  // mergeTopK reads only k and chunks; chunkTopK adds its segment's fields. The pruned path's fields stay zero.
  const exact: Params = {
    n: 0,
    k,
    lastMask: 0,
    rowBase: 0,
    chunkBase: 0,
    chunks: view.chunks,
    nq: 0,
    cap: 0,
    sample: 0,
    stride: 0,
    pitch: 0,
  };
  const dispatches: Dispatch[] = view.segments.map((s) => {
    const u = gpu.pool.uniform(
      PARAMS.encode({ ...exact, n: s.rows, lastMask: mask, rowBase: s.rowBase, chunkBase: s.chunkBase, pitch: s.pitch }),
    );
    uniforms.push(u);
    return [chunkP, bindGroup(gpu, chunkP, [u, s.buffer, qbuf, candD, candI, outD, outI]), [m, s.chunks]];
  });
  const mu = gpu.pool.uniform(PARAMS.encode(exact));
  uniforms.push(mu);
  // mergeTopK reads neither the base nor the queries: bindings 1 and 2 are not in its layout.
  dispatches.push([mergeP, bindGroup(gpu, mergeP, [mu, undefined, undefined, candD, candI, outD, outI]), [m, 1]]);
  const enc = gpu.ctx.device.createCommandEncoder();
  computePass(gpu, enc, dispatches);
  const scatter = (dst: Int32Array) => (mapped: Uint8Array) => {
    const v = new Int32Array(mapped.buffer, mapped.byteOffset, m * k);
    rows.forEach((q, e) => dst.set(v.subarray(e * k, e * k + k), q * k));
  };
  try {
    await readResults(gpu, enc, [
      { buffer: outD, bytes: m * k * 4, read: scatter(result.distances) },
      { buffer: outI, bytes: m * k * 4, read: scatter(result.ids) },
    ]);
  } finally {
    gpu.pool.release(qbuf, candD, candI, outD, outI, ...uniforms);
  }
}

/** Bytes one scratch binding of a search may take: the device's limit, at most 256 MiB. */
function scratchBytes(gpu: Gpu): number {
  return Math.min(gpu.ctx.limits.maxStorageBufferBindingSize, 256 << 20);
}

/** Queries per block: within the dispatch limit and with `bytesPerQuery` of scratch per query in one binding. */
export function blockSize(gpu: Gpu, nq: number, bytesPerQuery: number): number {
  return Math.max(1, Math.min(nq, gpu.ctx.limits.maxComputeWorkgroupsPerDimension, Math.floor(scratchBytes(gpu) / bytesPerQuery)));
}

export interface GpuSearchOptions {
  /** Search the first `rows` rows only (the caller's snapshot; rows appended since are left out); default all. */
  rows?: number;
  /** Where the results go (nq x k each); new arrays when absent. */
  out?: { ids: Int32Array; distances: Int32Array };
  /** Whether the filter uses the subgroup path, per search size (where the device has subgroups). */
  subgroups?: SubgroupPick;
}

export async function gpuHammingTopK(
  gpu: Gpu,
  codes: GpuCodes,
  queries: Uint8Array,
  k: number,
  opts: GpuSearchOptions = {},
): Promise<{ ids: Int32Array; distances: Int32Array }> {
  const { dim } = codes;
  const nq = queries.length / bytesPerRow(dim);
  const view = acquireView(codes, opts.rows);
  try {
    const result = opts.out ?? { ids: new Int32Array(nq * k), distances: new Int32Array(nq * k) };
    if (view.n === 0 || nq === 0) {
      result.ids.fill(-1);
      result.distances.fill(-1);
      return result;
    }
    const words = toWordRows(queries, nq, dim);
    const cap = pruneCapacity(view, k);
    let overflowed: number[] = [];
    if (cap * 4 <= scratchBytes(gpu)) {
      const qb = blockSize(gpu, nq, cap * 4);
      for (let q0 = 0; q0 < nq; q0 += qb) {
        ensureHealthy(gpu);
        const m = Math.min(qb, nq - q0);
        const subgroups = opts.subgroups?.(view.n, m) ?? false;
        const counts = await prunedBlock(gpu, codes, view, words, q0, m, k, cap, subgroups, result);
        for (let e = 0; e < m; e++) if (counts[e] > cap) overflowed.push(q0 + e);
      }
    } else {
      overflowed = Array.from({ length: nq }, (_, q) => q);
    }
    gpu.stats.prunedQueries += nq - overflowed.length;
    gpu.stats.exactQueries += overflowed.length;
    const qb = blockSize(gpu, Math.max(1, overflowed.length), view.chunks * k * 4);
    for (let q0 = 0; q0 < overflowed.length; q0 += qb) {
      ensureHealthy(gpu);
      await exactBlock(gpu, view, words, overflowed.slice(q0, q0 + qb), k, result);
    }
    return result;
  } finally {
    releaseView(gpu, view);
  }
}
