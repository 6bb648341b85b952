/**
 * Works out what a checked batch of operations does to a library, without
 * touching it: which experiences go, which are written (new ones, and
 * existing ones whose confidence or counts change), and what happened to
 * each operation. The library then writes the plan in one transaction and
 * only afterwards changes its memory, so a failure anywhere leaves both as
 * they were.
 *
 * New text that is a near-duplicate (cosine above the threshold) of a live
 * experience folds into it instead of adding a second copy: the existing one
 * keeps its id and text and takes the higher confidence.
 */
import { experienceId } from './content-id.js';
import type { Experience } from './experience.js';
import type { LibraryOperation } from './operations.js';

export interface OperationOutcome {
  op: LibraryOperation['op'];
  status: 'added' | 'modified' | 'merged' | 'deleted' | 'kept' | 'folded' | 'duplicate';
  /** The experience the operation produced or touched. */
  id?: string;
  /** Ids the operation removed (modify: the old version; merge: the originals). */
  replaced?: string[];
}

export interface Neighbour {
  /** An existing experience's id, or a row of this batch. */
  id?: string;
  row?: number;
  sim: number;
}

export interface PlanContext {
  current: (id: string) => Experience | undefined;
  /** Per text row of the batch: embedding, code, scale. */
  embeddings: Float32Array;
  codes: Uint8Array;
  scales: Float32Array;
  dim: number;
  /** Near neighbours of text row r, among existing experiences and earlier rows of the batch, best first. */
  neighbours: (row: number) => Neighbour[];
  duplicateThreshold: number;
  source: string;
  epoch: number;
  now: number;
  defaultConfidence: number;
  defaultDomain: string;
}

export interface Plan {
  /** Existing experiences removed. */
  removed: Set<string>;
  /** Experiences to write: new ones and changed existing ones. */
  put: Map<string, Experience>;
  /** Ids of experiences this batch creates. */
  created: Set<string>;
  outcomes: OperationOutcome[];
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = values[0];
  for (const [v, c] of counts) if (c > (counts.get(best) ?? 0)) best = v;
  return best;
}

type Base = Omit<Experience, 'id' | 'embedding' | 'code' | 'scale'>;

/** One batch's plan under construction: what it puts, removes and creates, each op's outcome. */
class BatchPlanner {
  readonly plan: Plan = { removed: new Set(), put: new Map(), created: new Set(), outcomes: [] };
  /** The id that holds each text row of the batch, once placed (a later row may fold into it). */
  private readonly rowIds: (string | undefined)[] = [];
  private readonly bpr: number;
  private row = 0;

  constructor(private readonly ctx: PlanContext) {
    this.bpr = ctx.codes.length / Math.max(1, ctx.scales.length);
  }

  private live(id: string): Experience | undefined {
    return this.plan.put.get(id) ?? (this.plan.removed.has(id) ? undefined : this.ctx.current(id));
  }

  private remove(id: string): void {
    if (this.plan.created.has(id)) this.plan.created.delete(id);
    else this.plan.removed.add(id);
    this.plan.put.delete(id);
  }

  private strengthen(e: Experience, confidence: number): void {
    this.plan.put.set(e.id, {
      ...e,
      confidence: Math.max(e.confidence, confidence),
      metadata: { ...e.metadata, folded: Number(e.metadata.folded ?? 0) + 1 },
    });
  }

  /** Places the next text row's experience: a duplicate of a live one, folded into a near-duplicate, or new. */
  private place(base: Base): { status: 'new' | 'folded' | 'duplicate'; id: string } {
    const row = this.row++;
    const id = experienceId(base.text, base.domain);
    const same = this.live(id);
    if (same !== undefined) {
      this.strengthen(same, base.confidence);
      this.rowIds[row] = id;
      return { status: 'duplicate', id };
    }
    for (const n of this.ctx.neighbours(row)) {
      if (n.sim <= this.ctx.duplicateThreshold) break;
      const target = n.id ?? (n.row !== undefined ? this.rowIds[n.row] : undefined);
      const e = target === undefined ? undefined : this.live(target);
      if (e === undefined) continue;
      this.strengthen(e, base.confidence);
      this.rowIds[row] = e.id;
      return { status: 'folded', id: e.id };
    }
    const { ctx, bpr } = this;
    this.plan.put.set(id, {
      ...base,
      id,
      // Views into the batch's buffers, which nothing writes after embedding: no copy per experience.
      embedding: ctx.embeddings.subarray(row * ctx.dim, (row + 1) * ctx.dim),
      code: ctx.codes.subarray(row * bpr, (row + 1) * bpr),
      scale: ctx.scales[row],
    });
    this.plan.created.add(id);
    this.rowIds[row] = id;
    return { status: 'new', id };
  }

  add(op: Extract<LibraryOperation, { op: 'add' }>): OperationOutcome {
    const { ctx } = this;
    const r = this.place({
      text: op.text,
      confidence: op.confidence ?? ctx.defaultConfidence,
      domain: op.domain ?? ctx.defaultDomain,
      epoch: ctx.epoch,
      usageCount: 0,
      lastUsedEpoch: -1,
      source: op.source ?? ctx.source,
      createdAt: ctx.now,
      metadata: op.metadata ?? {},
    });
    return { op: 'add', status: r.status === 'new' ? 'added' : r.status, id: r.id };
  }

  modify(op: Extract<LibraryOperation, { op: 'modify' }>): OperationOutcome {
    const old = this.live(op.id) as Experience;
    this.remove(op.id);
    const r = this.place({
      ...old,
      text: op.text,
      confidence: op.confidence ?? old.confidence,
      epoch: this.ctx.epoch,
      createdAt: this.ctx.now,
      metadata: { ...old.metadata, replaces: old.id },
    });
    return { op: 'modify', status: r.status === 'new' ? 'modified' : r.status, id: r.id, replaced: [op.id] };
  }

  merge(op: Extract<LibraryOperation, { op: 'merge' }>): OperationOutcome {
    const olds = op.ids.map((id) => this.live(id) as Experience);
    for (const id of op.ids) this.remove(id);
    const r = this.place({
      text: op.text,
      confidence: op.confidence ?? Math.max(...olds.map((e) => e.confidence)),
      domain: mostCommon(olds.map((e) => e.domain)),
      epoch: this.ctx.epoch,
      usageCount: olds.reduce((s, e) => s + e.usageCount, 0),
      lastUsedEpoch: Math.max(...olds.map((e) => e.lastUsedEpoch)),
      source: this.ctx.source,
      createdAt: this.ctx.now,
      metadata: { mergedFrom: [...op.ids] },
    });
    return { op: 'merge', status: r.status === 'new' ? 'merged' : r.status, id: r.id, replaced: [...op.ids] };
  }

  delete(op: Extract<LibraryOperation, { op: 'delete' }>): OperationOutcome {
    this.remove(op.id);
    return { op: 'delete', status: 'deleted', id: op.id };
  }
}

export function planBatch(ops: readonly LibraryOperation[], ctx: PlanContext): Plan {
  const p = new BatchPlanner(ctx);
  for (const op of ops) {
    if (op.op === 'keep')
      p.plan.outcomes.push(op.id === undefined ? { op: 'keep', status: 'kept' } : { op: 'keep', status: 'kept', id: op.id });
    else if (op.op === 'add') p.plan.outcomes.push(p.add(op));
    else if (op.op === 'modify') p.plan.outcomes.push(p.modify(op));
    else if (op.op === 'merge') p.plan.outcomes.push(p.merge(op));
    else p.plan.outcomes.push(p.delete(op));
  }
  return p.plan;
}

export function batchTexts(ops: readonly LibraryOperation[]): string[] {
  const texts: string[] = [];
  for (const op of ops) if (op.op === 'add' || op.op === 'modify' || op.op === 'merge') texts.push(op.text);
  return texts;
}
