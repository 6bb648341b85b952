/**
 * The library operations training-free GRPO emits, and their structural
 * checks. A batch is checked whole before anything is embedded or written:
 * one bad operation rejects the batch and changes nothing.
 *
 * Ids name content, so they never shift: an operation refers to experiences
 * by the ids they had when the batch started. `modify` and `merge` produce new
 * text and therefore a new id; the result says which id replaced which.
 */
import { MAX_DOMAIN_BYTES } from '../bitdelta/record.js';
import { DsoError } from '../core/errors.js';
import { checkExperienceText, isDomain } from './text.js';

export interface AddOperation {
  op: 'add';
  text: string;
  domain?: string;
  confidence?: number;
  source?: string;
  metadata?: Record<string, unknown>;
}
export interface ModifyOperation {
  op: 'modify';
  id: string;
  text: string;
  confidence?: number;
}
export interface MergeOperation {
  op: 'merge';
  ids: string[];
  text: string;
  confidence?: number;
}
export interface DeleteOperation {
  op: 'delete';
  id: string;
}
/** Leaves an experience as it is; recorded so a log shows what the optimizer decided. */
export interface KeepOperation {
  op: 'keep';
  id?: string;
}
export type LibraryOperation = AddOperation | ModifyOperation | MergeOperation | DeleteOperation | KeepOperation;

const OPS = new Set(['add', 'modify', 'merge', 'delete', 'keep']);

function bad(i: number, why: string): DsoError {
  return new DsoError('INVALID_OPERATION', `operation ${i}: ${why}`);
}

export function checkConfidence(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
    throw new DsoError('INVALID_ARGUMENT', `${what} must be a number in [0, 1], got ${String(v)}`);
  }
  return v;
}

/**
 * Checks shapes, texts and references; `exists` says whether an id is in the
 * library at batch start. An id may be consumed (modified, merged, deleted)
 * by one operation only: a batch that deletes X and then modifies X is
 * contradictory and refused rather than resolved by order.
 * Returns the operations with normalised texts.
 */
export function checkOperations(ops: unknown, exists: (id: string) => boolean): LibraryOperation[] {
  if (!Array.isArray(ops)) throw new DsoError('INVALID_OPERATION', 'operations must be an array');
  const consumed = new Set<string>();
  const consume = (i: number, id: unknown) => {
    if (typeof id !== 'string') throw bad(i, `id must be a string, got ${typeof id}`);
    if (!exists(id)) throw new DsoError('UNKNOWN_EXPERIENCE', `operation ${i}: no experience with id ${id}`);
    if (consumed.has(id)) throw bad(i, `experience ${id} is already changed by an earlier operation of this batch`);
    consumed.add(id);
  };
  return ops.map((o: unknown, i): LibraryOperation => {
    if (o === null || typeof o !== 'object') throw bad(i, 'must be an object');
    const op = (o as { op?: unknown }).op;
    if (typeof op !== 'string' || !OPS.has(op)) throw bad(i, `unknown op ${JSON.stringify(op)} (add, modify, merge, delete, keep)`);
    const withText = <T extends { text: string; confidence?: number }>(x: T): T => {
      const text = checkExperienceText(x.text);
      if (x.confidence !== undefined) checkConfidence(x.confidence, `operation ${i}: confidence`);
      return { ...x, text };
    };
    switch (op) {
      case 'add': {
        const a = o as AddOperation;
        if (a.domain !== undefined && !isDomain(a.domain))
          throw bad(i, `domain must be a non-empty, well-formed string of at most ${MAX_DOMAIN_BYTES} bytes`);
        if (a.metadata !== undefined && (a.metadata === null || typeof a.metadata !== 'object')) throw bad(i, 'metadata must be an object');
        return withText(a);
      }
      case 'modify': {
        const m = o as ModifyOperation;
        consume(i, m.id);
        return withText(m);
      }
      case 'merge': {
        const m = o as MergeOperation;
        if (!Array.isArray(m.ids) || m.ids.length < 2) throw bad(i, 'merge needs ids: at least two experience ids');
        for (const id of m.ids) consume(i, id);
        return withText(m);
      }
      case 'delete': {
        const d = o as DeleteOperation;
        consume(i, d.id);
        return { op: 'delete', id: d.id };
      }
      default: {
        const k = o as KeepOperation;
        if (k.id !== undefined && (typeof k.id !== 'string' || !exists(k.id)))
          throw new DsoError('UNKNOWN_EXPERIENCE', `operation ${i}: no experience with id ${String(k.id)}`);
        return k.id === undefined ? { op: 'keep' } : { op: 'keep', id: k.id };
      }
    }
  });
}
