/**
 * Reads library operations out of a model's answer. Models wrap JSON in
 * prose or code fences, so the first parseable JSON value is taken; anything
 * that still does not describe valid operations (unknown op, an id that is
 * not one of the prompt's labels, text that is not a "When ..., ..." sentence)
 * is a MODEL_BAD_RESPONSE, which the optimizer answers by asking once more.
 */
import { DsoError } from '../core/errors.js';
import type { LibraryOperation } from '../experience/operations.js';
import { labelToId } from '../experience/prompt.js';
import { checkExperienceText } from '../experience/text.js';

function firstJson(content: string): unknown {
  const tries = [content.trim()];
  const fence = /```(?:json)?\s*([\s\S]*?)```/iu.exec(content);
  if (fence) tries.push(fence[1].trim());
  for (const [open, close] of [
    ['{', '}'],
    ['[', ']'],
  ]) {
    const a = content.indexOf(open);
    const b = content.lastIndexOf(close);
    if (a >= 0 && b > a) tries.push(content.slice(a, b + 1));
  }
  for (const t of tries) {
    try {
      return JSON.parse(t);
    } catch {
      // try the next candidate
    }
  }
  throw new DsoError('MODEL_BAD_RESPONSE', `no JSON in the model's answer: ${content.slice(0, 200)}`);
}

export interface ParseContext {
  /** labels[i] is the id behind G{i+1}. */
  labels: readonly string[];
  maxOperations: number;
  domain: string;
  confidence: number;
  source?: string;
}

function text(v: unknown, i: number): string {
  try {
    return checkExperienceText(v);
  } catch (e) {
    throw new DsoError('MODEL_BAD_RESPONSE', `operation ${i}: ${(e as Error).message}`);
  }
}

export function parseOperations(content: string, ctx: ParseContext): LibraryOperation[] {
  const j = firstJson(content);
  const list = Array.isArray(j) ? j : (j as { operations?: unknown } | null)?.operations;
  if (!Array.isArray(list)) throw new DsoError('MODEL_BAD_RESPONSE', 'the answer has no "operations" list');
  const id = (v: unknown, i: number): string => {
    const found = typeof v === 'string' ? (labelToId(v, ctx.labels) ?? (ctx.labels.includes(v) ? v : undefined)) : undefined;
    if (found === undefined)
      throw new DsoError('MODEL_BAD_RESPONSE', `operation ${i}: ${JSON.stringify(v)} is not one of G1..G${ctx.labels.length}`);
    return found;
  };
  const confidence = (v: unknown) => (typeof v === 'number' && v >= 0 && v <= 1 ? v : ctx.confidence);
  const ops: LibraryOperation[] = [];
  for (const [i, raw] of list.entries()) {
    if (ops.length >= ctx.maxOperations) break;
    if (raw === null || typeof raw !== 'object') throw new DsoError('MODEL_BAD_RESPONSE', `operation ${i} is not an object`);
    const o = raw as Record<string, unknown>;
    const op = o.op ?? o.operation;
    const kind = typeof op === 'string' ? op.toLowerCase() : '';
    switch (kind) {
      case 'add':
        ops.push({
          op: 'add',
          text: text(o.text, i),
          domain: ctx.domain,
          confidence: confidence(o.confidence),
          ...(ctx.source ? { source: ctx.source } : {}),
        });
        break;
      case 'modify':
        ops.push({ op: 'modify', id: id(o.id, i), text: text(o.text, i) });
        break;
      case 'merge': {
        if (!Array.isArray(o.ids) || o.ids.length < 2)
          throw new DsoError('MODEL_BAD_RESPONSE', `operation ${i}: merge needs "ids" with at least two labels`);
        const ids = [...new Set(o.ids.map((v) => id(v, i)))];
        if (ids.length < 2) throw new DsoError('MODEL_BAD_RESPONSE', `operation ${i}: merge names one experience twice`);
        ops.push({ op: 'merge', ids, text: text(o.text, i), confidence: confidence(o.confidence) });
        break;
      }
      case 'delete':
        ops.push({ op: 'delete', id: id(o.id, i) });
        break;
      case 'keep':
      case 'none':
        break;
      default:
        throw new DsoError('MODEL_BAD_RESPONSE', `operation ${i}: unknown op ${JSON.stringify(o.op)}`);
    }
  }
  // Two operations on one experience contradict each other; the library would refuse the batch.
  const seen = new Set<string>();
  for (const op of ops) {
    const ids = op.op === 'modify' || op.op === 'delete' ? [op.id] : op.op === 'merge' ? op.ids : [];
    for (const x of ids) {
      if (seen.has(x)) throw new DsoError('MODEL_BAD_RESPONSE', `two operations change the same experience ${x}`);
      seen.add(x);
    }
  }
  return ops;
}
