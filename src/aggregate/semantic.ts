/**
 * SemanticAggregator: which of the experiences nodes report are accepted.
 *
 * As the DSO design defines it, an experience's score is the median
 * confidence across the nodes that report it times its sybil weight (unique
 * reporting nodes / all nodes), and it is accepted at or above the voting
 * threshold. Corrected here:
 *  - identical experiences are keyed by their content id, recomputed from
 *    text and domain (never a claimed id, never a per-process hash), so a copy
 *    of an honest record under a new id is the same experience;
 *  - near-duplicates (codes within a small Hamming distance and texts sharing
 *    most of their words, same domain) are grouped as one experience;
 *  - a node counts once per experience however often it repeats it (its
 *    highest confidence counts).
 * The accepted experience's code is the bitwise majority of its reporters'
 * codes and its scales their median (engine kernels), taken twice: reports
 * whose code differs from the first majority in more than `outlierFraction`
 * of the bits (flipped or random signs attached to an honest text) are left
 * out of the second. A minority cannot flip the result, and cannot blur it
 * where honest reports disagree among themselves either.
 */
import { bytesPerRow, isArray } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { LazyEngine } from '../engine/lazy-engine.js';
import type { Engine } from '../engine/types.js';
import { experienceId } from '../experience/content-id.js';
import { robustMajority } from './robust-majority.js';

export interface ReportedExperience {
  text: string;
  domain: string;
  confidence: number;
  /** Packed signs, ceil(dim/8) bytes. */
  code: Uint8Array;
  /** One scale per group of the code (one for a whole-vector scale). */
  scales: Float32Array;
  dim: number;
}

export interface AggregateOptions {
  /** Accept at or above this score (default 0.66). */
  votingThreshold?: number;
  /** All nodes in the network (default: the nodes in this call). */
  totalNodes?: number;
  /** Codes this close (fraction of dim, default 0.15) ... */
  maxHammingFraction?: number;
  /** ... and texts sharing this fraction of their words (Jaccard, default 0.6) are one experience. */
  minTextSimilarity?: number;
  /** Reports whose code differs from the majority in more than this fraction of bits (default 0.35) are left out of it. */
  outlierFraction?: number;
  engine?: Engine;
}

export interface AggregatedExperience {
  /** Content id of the representative text (the variant most nodes reported). */
  id: string;
  text: string;
  domain: string;
  /** Bitwise majority of the reporters' codes (ties to 1). */
  code: Uint8Array;
  /** Median of the reporters' scales. */
  scales: Float32Array;
  dim: number;
  /** Median over reporting nodes of each node's highest confidence. */
  confidence: number;
  /** Reporting nodes / all nodes. */
  sybilWeight: number;
  score: number;
  reporters: string[];
  /** Content ids grouped into this experience. */
  variants: string[];
  /** Reporters whose codes were left out of the majority as outliers. */
  outliers: string[];
}

export interface AggregateResult {
  accepted: AggregatedExperience[];
  rejected: AggregatedExperience[];
}

interface Variant {
  id: string;
  text: string;
  domain: string;
  dim: number;
  /** Per node: its report with the highest confidence. */
  byNode: Map<string, ReportedExperience>;
}

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0;
  for (const w of a) if (b.has(w)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 1 : inter / union;
}

function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function checkReport(node: string, e: ReportedExperience): void {
  const where = `node ${node}: experience ${JSON.stringify(e?.text)?.slice(0, 60)}`;
  if (e === null || typeof e !== 'object' || typeof e.text !== 'string' || typeof e.domain !== 'string') {
    throw new DsoError('INVALID_ARGUMENT', `${where}: needs text and domain strings`);
  }
  if (typeof e.confidence !== 'number' || !(e.confidence >= 0 && e.confidence <= 1)) {
    throw new DsoError('INVALID_ARGUMENT', `${where}: confidence must be in [0, 1], got ${String(e.confidence)}`);
  }
  if (!Number.isInteger(e.dim) || e.dim < 1) throw new DsoError('INVALID_DIM', `${where}: dim must be a positive integer`);
  if (!(e.code instanceof Uint8Array) || e.code.length !== bytesPerRow(e.dim)) {
    throw new DsoError('LENGTH_MISMATCH', `${where}: code must hold ${bytesPerRow(e.dim)} bytes`);
  }
  if (!(e.scales instanceof Float32Array) || e.scales.length < 1 || !e.scales.every((s) => Number.isFinite(s) && s >= 0)) {
    throw new DsoError('INVALID_SCALE', `${where}: scales must be finite, non-negative and at least one`);
  }
}

/** The reports as [node, list] pairs, whichever container they came in. */
function entriesOf(
  nodeExperiences: ReadonlyMap<string, readonly ReportedExperience[]> | Readonly<Record<string, readonly ReportedExperience[]>>,
): [string, readonly ReportedExperience[]][] {
  // `instanceof Map` narrows to Map<any, any>, and Object.entries of the union gives any values: name the types.
  return nodeExperiences instanceof Map
    ? [...(nodeExperiences as ReadonlyMap<string, readonly ReportedExperience[]>).entries()]
    : Object.entries(nodeExperiences as Readonly<Record<string, readonly ReportedExperience[]>>);
}

/** Phase 1: identical experiences, one variant per content id recomputed from text and domain, one report per node. */
function variantsOf(entries: [string, readonly ReportedExperience[]][]): Variant[] {
  const variants = new Map<string, Variant>();
  for (const [node, list] of entries) {
    if (!isArray(list)) throw new DsoError('INVALID_ARGUMENT', `node ${node}: experiences must be an array`);
    for (const e of list) {
      checkReport(node, e);
      const id = experienceId(e.text, e.domain);
      let v = variants.get(id);
      if (v === undefined) {
        v = { id, text: e.text, domain: e.domain, dim: e.dim, byNode: new Map() };
        variants.set(id, v);
      } else if (v.dim !== e.dim) {
        throw new DsoError('DIM_MISMATCH', `experience ${id} reported with dim ${e.dim} and ${v.dim}`);
      }
      const prev = v.byNode.get(node);
      if (prev === undefined || e.confidence > prev.confidence) v.byNode.set(node, e);
    }
  }
  return [...variants.values()];
}

/** A variant's code: the majority of its reports, so one node's noise does not decide what it is near. */
async function variantCodes(engine: Engine, list: Variant[], idx: number[], dim: number): Promise<Uint8Array> {
  const bpr = bytesPerRow(dim);
  const codes = new Uint8Array(idx.length * bpr);
  for (const [r, vi] of idx.entries()) {
    const reps = [...list[vi].byNode.values()];
    const stacked = new Uint8Array(reps.length * bpr);
    reps.forEach((e, i) => stacked.set(e.code, i * bpr));
    codes.set(reps.length === 1 ? reps[0].code : await engine.majority(stacked, { n: reps.length, dim }), r * bpr);
  }
  return codes;
}

/** Phase 2: near-duplicates, variants whose codes are close and whose texts agree (same domain), grouped. */
async function groupNearDuplicates(engine: Engine, list: Variant[], maxHamming: number, minText: number): Promise<Variant[][]> {
  const parent = list.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const byDim = new Map<number, number[]>();
  list.forEach((v, i) => {
    const at = byDim.get(v.dim);
    if (at) at.push(i);
    else byDim.set(v.dim, [i]);
  });
  for (const [dim, idx] of byDim) {
    if (idx.length < 2) continue;
    const codes = await variantCodes(engine, list, idx, dim);
    const k = Math.min(idx.length, 9);
    const { ids, distances } = await engine.hammingTopK(codes, codes, { dim, k });
    const texts = idx.map((vi) => words(list[vi].text));
    for (let r = 0; r < idx.length; r++) {
      for (let j = 0; j < k; j++) {
        const o = ids[r * k + j];
        if (o < 0 || o === r || distances[r * k + j] > maxHamming * dim) continue;
        const a = list[idx[r]];
        const b = list[idx[o]];
        if (a.domain === b.domain && jaccard(texts[r], texts[o]) >= minText) parent[find(idx[r])] = find(idx[o]);
      }
    }
  }
  const groups = new Map<number, Variant[]>();
  list.forEach((v, i) => {
    const root = find(i);
    const at = groups.get(root);
    if (at) at.push(v);
    else groups.set(root, [v]);
  });
  return [...groups.values()];
}

/** The variant that speaks for a group: most reporters, then highest median confidence, then the smaller id. */
function representative(members: Variant[]): Variant {
  const medianConfidence = (v: Variant) => median([...v.byNode.values()].map((e) => e.confidence));
  return [...members].sort(
    (a, b) => b.byNode.size - a.byNode.size || medianConfidence(b) - medianConfidence(a) || (a.id < b.id ? -1 : 1),
  )[0];
}

/** Phase 3: one group scored (median confidence x reporting share) with its robust code and scales. */
async function scoreGroup(engine: Engine, members: Variant[], totalNodes: number, outlierFraction: number): Promise<AggregatedExperience> {
  // A node counts once per group: its most confident report across the variants.
  const perNode = new Map<string, ReportedExperience>();
  for (const v of members) {
    for (const [node, e] of v.byNode) {
      const prev = perNode.get(node);
      if (prev === undefined || e.confidence > prev.confidence) perNode.set(node, e);
    }
  }
  const reporters = [...perNode.keys()].sort();
  const reports = reporters.map((n) => perNode.get(n) as ReportedExperience);
  const confidence = median(reports.map((e) => e.confidence));
  const sybilWeight = reporters.length / totalNodes;
  const best = representative(members);
  const dim = best.dim;
  const bpr = bytesPerRow(dim);
  const groupsPerCode = Math.max(...reports.map((e) => e.scales.length));
  const stackedCodes = new Uint8Array(reports.length * bpr);
  const stackedScales = new Float32Array(reports.length * groupsPerCode);
  reports.forEach((e, i) => {
    stackedCodes.set(e.code, i * bpr);
    // A report with fewer groups (one whole-vector scale) repeats it across the groups.
    for (let g = 0; g < groupsPerCode; g++) stackedScales[i * groupsPerCode + g] = e.scales[Math.min(g, e.scales.length - 1)];
  });
  const robust = await robustMajority(engine, stackedCodes, stackedScales, reports.length, dim, groupsPerCode, outlierFraction);
  return {
    id: best.id,
    text: best.text,
    domain: best.domain,
    code: robust.code,
    scales: robust.scales,
    dim,
    confidence,
    sybilWeight,
    score: confidence * sybilWeight,
    reporters,
    variants: members.map((v) => v.id).sort(),
    outliers: robust.outliers.map((i) => reporters[i]),
  };
}

export class SemanticAggregator {
  private readonly engine: LazyEngine;

  constructor(opts: { engine?: Engine } = {}) {
    this.engine = new LazyEngine(opts.engine);
  }

  async aggregateExperiences(
    nodeExperiences: ReadonlyMap<string, readonly ReportedExperience[]> | Readonly<Record<string, readonly ReportedExperience[]>>,
    opts: AggregateOptions = {},
  ): Promise<AggregateResult> {
    const entries = entriesOf(nodeExperiences);
    const threshold = opts.votingThreshold ?? 0.66;
    const totalNodes = opts.totalNodes ?? entries.length;
    if (!Number.isInteger(totalNodes) || totalNodes < entries.length) {
      throw new DsoError('INVALID_COUNT', `totalNodes (${totalNodes}) must be an integer at least the ${entries.length} reporting nodes`);
    }
    const list = variantsOf(entries);
    if (list.length === 0) return { accepted: [], rejected: [] };
    const engine = await this.engine.get();
    const groups = await groupNearDuplicates(engine, list, opts.maxHammingFraction ?? 0.15, opts.minTextSimilarity ?? 0.6);
    const accepted: AggregatedExperience[] = [];
    const rejected: AggregatedExperience[] = [];
    for (const members of groups) {
      const out = await scoreGroup(engine, members, totalNodes, opts.outlierFraction ?? 0.35);
      (out.score >= threshold ? accepted : rejected).push(out);
    }
    const order = (a: AggregatedExperience, b: AggregatedExperience) => b.score - a.score || (a.id < b.id ? -1 : 1);
    return { accepted: accepted.sort(order), rejected: rejected.sort(order) };
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}
