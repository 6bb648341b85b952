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

export function planBatch(ops: readonly LibraryOperation[], ctx: PlanContext): Plan {
  const plan: Plan = { removed: new Set(), put: new Map(), created: new Set(), outcomes: [] };
  const rowIds: (string | undefined)[] = [];
  const bpr = ctx.codes.length / Math.max(1, ctx.scales.length);

  const live = (id: string): Experience | undefined => plan.put.get(id) ?? (plan.removed.has(id) ? undefined : ctx.current(id));
  const remove = (id: string) => {
    if (plan.created.has(id)) plan.created.delete(id);
    else plan.removed.add(id);
    plan.put.delete(id);
  };
  const strengthen = (e: Experience, confidence: number) => {
    plan.put.set(e.id, {
      ...e,
      confidence: Math.max(e.confidence, confidence),
      metadata: { ...e.metadata, folded: Number(e.metadata.folded ?? 0) + 1 },
    });
  };

  /** Places the experience of text row `row`; returns the outcome status and the id that holds it. */
  const place = (
    row: number,
    base: Omit<Experience, 'id' | 'embedding' | 'code' | 'scale'>,
  ): { status: 'new' | 'folded' | 'duplicate'; id: string } => {
    const id = experienceId(base.text, base.domain);
    const same = live(id);
    if (same !== undefined) {
      strengthen(same, base.confidence);
      rowIds[row] = id;
      return { status: 'duplicate', id };
    }
    for (const n of ctx.neighbours(row)) {
      if (n.sim <= ctx.duplicateThreshold) break;
      const target = n.id ?? (n.row !== undefined ? rowIds[n.row] : undefined);
      const e = target === undefined ? undefined : live(target);
      if (e === undefined) continue;
      strengthen(e, base.confidence);
      rowIds[row] = e.id;
      return { status: 'folded', id: e.id };
    }
    plan.put.set(id, {
      ...base,
      id,
      // Views into the batch's buffers, which nothing writes after embedding: no copy per experience.
      embedding: ctx.embeddings.subarray(row * ctx.dim, (row + 1) * ctx.dim),
      code: ctx.codes.subarray(row * bpr, (row + 1) * bpr),
      scale: ctx.scales[row],
    });
    plan.created.add(id);
    rowIds[row] = id;
    return { status: 'new', id };
  };

  let row = 0;
  for (const op of ops) {
    switch (op.op) {
      case 'add': {
        const r = place(row++, {
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
        plan.outcomes.push({ op: 'add', status: r.status === 'new' ? 'added' : r.status, id: r.id });
        break;
      }
      case 'modify': {
        const old = live(op.id) as Experience;
        remove(op.id);
        const r = place(row++, {
          ...old,
          text: op.text,
          confidence: op.confidence ?? old.confidence,
          epoch: ctx.epoch,
          createdAt: ctx.now,
          metadata: { ...old.metadata, replaces: old.id },
        });
        plan.outcomes.push({ op: 'modify', status: r.status === 'new' ? 'modified' : r.status, id: r.id, replaced: [op.id] });
        break;
      }
      case 'merge': {
        const olds = op.ids.map((id) => live(id) as Experience);
        for (const id of op.ids) remove(id);
        const r = place(row++, {
          text: op.text,
          confidence: op.confidence ?? Math.max(...olds.map((e) => e.confidence)),
          domain: mostCommon(olds.map((e) => e.domain)),
          epoch: ctx.epoch,
          usageCount: olds.reduce((s, e) => s + e.usageCount, 0),
          lastUsedEpoch: Math.max(...olds.map((e) => e.lastUsedEpoch)),
          source: ctx.source,
          createdAt: ctx.now,
          metadata: { mergedFrom: [...op.ids] },
        });
        plan.outcomes.push({ op: 'merge', status: r.status === 'new' ? 'merged' : r.status, id: r.id, replaced: [...op.ids] });
        break;
      }
      case 'delete':
        remove(op.id);
        plan.outcomes.push({ op: 'delete', status: 'deleted', id: op.id });
        break;
      case 'keep':
        plan.outcomes.push(op.id === undefined ? { op: 'keep', status: 'kept' } : { op: 'keep', status: 'kept', id: op.id });
        break;
    }
  }
  return plan;
}

/** The texts of a batch's text rows, in the order planBatch consumes them. */
export function batchTexts(ops: readonly LibraryOperation[]): string[] {
  const texts: string[] = [];
  for (const op of ops) if (op.op === 'add' || op.op === 'modify' || op.op === 'merge') texts.push(op.text);
  return texts;
}
