/**
 * Problem sets from JSON Lines files, in the formats the public math sets
 * come in, shared by `dso learn`, `dso eval` and the federated experiment:
 *  - gsm8k: "question", and "answer" whose final answer follows "####";
 *  - math:  "problem", and "answer", or else the last \boxed{} of "solution";
 *  - aime:  "problem" or "question", and an integer "answer";
 *  - jsonl: the fields named by questionField and answerField;
 *  - auto:  "query" | "problem" | "question", and "groundTruth" | "answer"
 *           (a GSM8K-style answer is cut at its "####").
 * Every format keeps an optional "domain" string. A line that does not fit
 * its format is an error naming the file and the line; nothing is guessed.
 */
import { createHash } from 'node:crypto';

import { DsoError } from '../core/errors.js';
import { readJsonLines } from '../core/jsonl.js';
import { seededRandom } from '../core/random.js';
import { extractBoxed } from './answers.js';
import type { Problem } from './optimizer.js';

export const DATASET_FORMATS = ['auto', 'gsm8k', 'math', 'aime', 'jsonl'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export interface DatasetOptions {
  format?: DatasetFormat;
  /** jsonl: the question's field. */
  questionField?: string;
  /** jsonl: the answer's field. */
  answerField?: string;
}

/** A problem with where it came from: its line, and a key that changes when its text or answer does. */
export interface DatasetProblem extends Problem {
  /** "file:line" */
  where: string;
  key: string;
}

const QUESTION_MAX_CHARS = 100_000;
const ANSWER_MAX_CHARS = 10_000;

function gsm8kFinal(answer: string): string | undefined {
  const at = answer.lastIndexOf('####');
  return at < 0 ? undefined : answer.slice(at + 4).trim();
}

function field(o: Record<string, unknown>, names: readonly string[]): { name: string; value: unknown } | undefined {
  const name = names.find((n) => o[n] !== undefined);
  return name === undefined ? undefined : { name, value: o[name] };
}

function readOne(o: Record<string, unknown>, where: string, opts: DatasetOptions): Problem {
  const bad = (why: string) => new DsoError('INVALID_ARGUMENT', `${where}: ${why}`);
  const format = opts.format ?? 'auto';
  const questionNames =
    format === 'gsm8k'
      ? ['question']
      : format === 'math'
        ? ['problem']
        : format === 'aime'
          ? ['problem', 'question']
          : format === 'jsonl'
            ? [opts.questionField ?? 'question']
            : ['query', 'problem', 'question'];
  const q = field(o, questionNames);
  if (q === undefined || typeof q.value !== 'string' || q.value.trim() === '')
    throw bad(`the ${format} format needs a non-empty "${questionNames.join('" or "')}" string`);
  if (q.value.length > QUESTION_MAX_CHARS) throw bad(`the question is longer than ${QUESTION_MAX_CHARS} characters`);
  let truth: string | undefined;
  if (format === 'gsm8k') {
    if (typeof o.answer !== 'string') throw bad('the gsm8k format needs an "answer" string');
    truth = gsm8kFinal(o.answer);
    if (truth === undefined || truth === '') throw bad('the gsm8k "answer" has no final answer after "####"');
  } else if (format === 'math') {
    if (typeof o.answer === 'string' || typeof o.answer === 'number') truth = String(o.answer);
    else if (typeof o.solution === 'string') {
      truth = extractBoxed(o.solution);
      if (truth === undefined) throw bad('the math "solution" has no \\boxed{} answer, and there is no "answer" field');
    } else throw bad('the math format needs an "answer", or a "solution" with a \\boxed{} answer');
  } else if (format === 'aime') {
    const a = typeof o.answer === 'string' ? o.answer.trim() : o.answer;
    if (!(typeof a === 'number' && Number.isInteger(a)) && !(typeof a === 'string' && /^-?\d+$/u.test(a)))
      throw bad(`the aime format needs an integer "answer", got ${JSON.stringify(o.answer)?.slice(0, 40)}`);
    truth = String(Number(a));
  } else {
    const names = format === 'jsonl' ? [opts.answerField ?? 'answer'] : ['groundTruth', 'answer'];
    const a = field(o, names);
    if (a === undefined || (typeof a.value !== 'string' && typeof a.value !== 'number'))
      throw bad(`the ${format} format needs a "${names.join('" or "')}" string or number`);
    truth = String(a.value);
    if (format === 'auto' && a.name === 'answer') truth = gsm8kFinal(truth) ?? truth;
  }
  if (truth.trim() === '') throw bad('the answer is empty');
  if (truth.length > ANSWER_MAX_CHARS) throw bad(`the answer is longer than ${ANSWER_MAX_CHARS} characters`);
  if (o.domain !== undefined && typeof o.domain !== 'string') throw bad('"domain" must be a string');
  return { query: q.value, groundTruth: truth, ...(typeof o.domain === 'string' ? { domain: o.domain } : {}) };
}

export function readDataset(file: string, opts: DatasetOptions = {}): DatasetProblem[] {
  if (opts.format !== undefined && !DATASET_FORMATS.includes(opts.format))
    throw new DsoError('INVALID_ARGUMENT', `format must be one of ${DATASET_FORMATS.join(', ')}, got ${String(opts.format)}`);
  if (opts.format === 'jsonl' && (opts.questionField === undefined || opts.answerField === undefined))
    throw new DsoError('INVALID_ARGUMENT', 'the jsonl format needs questionField and answerField');
  const out = readJsonLines(file).map(({ where, value }) => {
    const p = readOne(value, where, opts);
    const key = createHash('sha256').update(p.query).update('\0').update(p.groundTruth).digest('hex').slice(0, 16);
    return { ...p, where, key };
  });
  if (out.length === 0) throw new DsoError('INVALID_ARGUMENT', `${file} holds no problems`);
  return out;
}

export type Split = 'train' | 'test' | 'all';

/**
 * A seeded split: the problems are shuffled with `seed` and the first
 * round(testFraction x n) form the test split, the rest the train split, so
 * `learn --split train` and `eval --split test` with the same seed and
 * fraction never share a problem. Each split keeps the file's order.
 */
export function splitDataset<T>(problems: readonly T[], split: Split, opts: { testFraction?: number; seed?: number } = {}): T[] {
  if (split === 'all') return [...problems];
  const f = opts.testFraction ?? 0.2;
  if (!(f > 0 && f < 1)) throw new DsoError('INVALID_ARGUMENT', `testFraction must be in (0, 1), got ${f}`);
  const order = problems.map((_, i) => i);
  const rand = seededRandom(opts.seed ?? 1);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nTest = Math.min(problems.length - 1, Math.max(1, Math.round(f * problems.length)));
  const test = new Set(order.slice(0, nTest));
  return problems.filter((_, i) => (split === 'test') === test.has(i));
}
