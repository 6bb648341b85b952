/**
 * Final answers to math problems, and when two of them are the same answer.
 *
 * The rule (README, "When is an answer right?"):
 *  1. The final answer of a response is the last \boxed{} (or \fbox{}), else
 *     the last "#### X" line, else the last "the answer is X" / "answer: X",
 *     else the last number.
 *  2. Both answers are cleaned of what does not change their value: math
 *     delimiters ($, \(, \[), \left/\right, spacing commands, \dfrac and
 *     \tfrac (read as \frac), \text{} / \mathrm{} / \mbox{} wrappers, a
 *     leading "x =" or "x \in", currency signs, degree marks, trailing units
 *     after a number ("18 dollars", "10\,\text{cm}"), thousands separators (a
 *     comma followed by exactly three digits inside a number: "1,000" is one
 *     thousand, a list needs ", "), a percent sign (kept as a flag), and
 *     closing punctuation. A lone choice letter "(B)" reads as "B".
 *  3. Equal text after cleaning (ignoring case and spaces) is the same answer.
 *  4. A list ("1, 2, 3") or a set ("\{1,2\}") is compared as a multiset, in
 *     any order, item by item under this rule. An interval ("[0, 1)") or a
 *     union of intervals compares endpoints and openness; a parenthesised
 *     pair "(1, 2)" is ordered.
 *  5. Otherwise both are parsed as mathematics (LaTeX with
 *     @cortex-js/compute-engine; plain-text formulas such as "sqrt(8)" or
 *     "2*pi" are first read by mathjs and turned into LaTeX) and are the same
 *     answer when the compute engine finds them equal, or when their values
 *     agree to a relative 1e-6 (at three seeded points for each free variable,
 *     so "(x+1)^2" equals "x^2+2x+1").
 *  6. A percentage equals its number and its fraction: "50\%" equals "50" and
 *     "0.5", because datasets write it either way.
 * Answers longer than MAX_ANSWER_CHARS and expressions that would take long
 * to evaluate (a factorial or binomial of more than 1,000) are compared as
 * text only: model output is untrusted.
 */
import { createRequire } from 'node:module';

import type * as ComputeEngineModule from '@cortex-js/compute-engine';
import type { ComputeEngine, Expression } from '@cortex-js/compute-engine';
import type * as MathJsModule from 'mathjs';

/** Longer answers are compared as text only. */
export const MAX_ANSWER_CHARS = 500;
const RELATIVE_TOLERANCE = 1e-6;
/** Points a free variable is sampled at: away from 0, 1 and small integers, where different formulas often agree. */
const SAMPLE_POINTS = [0.3719, 1.6183, -2.2361];
const LARGEST_FACTORIAL = 1000;
const MATH_WORDS = new Set(['pi', 'sqrt', 'sin', 'cos', 'tan', 'log', 'ln', 'exp', 'abs', 'cot', 'sec', 'csc', 'inf', 'infinity']);

// Both libraries are loaded on the first comparison that needs them (a CJS build through require keeps this
// module synchronous), so commands that never compare formulas do not pay their start-up time.
const load = createRequire(import.meta.url);
let engine: ComputeEngine | undefined;
let mathjs: typeof MathJsModule | undefined;

function computeEngine(): ComputeEngine {
  engine ??= new (load('@cortex-js/compute-engine') as typeof ComputeEngineModule).ComputeEngine();
  return engine;
}

/** The contents of the last \boxed{...} or \fbox{...} (braces matched), or undefined. */
export function extractBoxed(text: string): string | undefined {
  let found: string | undefined;
  const re = /\\(?:boxed|fbox)\s*\{/gu;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    let depth = 1;
    let i = re.lastIndex;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
    }
    if (depth !== 0) return found;
    found = text.slice(re.lastIndex, i - 1);
    re.lastIndex = i;
  }
  return found;
}

function last<T>(items: T[]): T | undefined {
  return items.length > 0 ? items[items.length - 1] : undefined;
}

/** The final answer of a response (rule 1), or undefined when it names none. */
export function extractFinalAnswer(text: string): string | undefined {
  const boxed = extractBoxed(text);
  if (boxed !== undefined) return boxed.trim();
  const hashes = last([...text.matchAll(/^\s*####\s*(.+?)\s*$/gmu)]);
  if (hashes) return hashes[1];
  const said = last([...text.matchAll(/(?:final answer|answer)\s*(?:is|:|=)\s*:?\s*(.+)/giu)]);
  if (said) return said[1].trim();
  return last(text.match(/-?\d[\d,]*(?:\.\d+)?(?:\/\d+)?/gu) ?? []);
}

interface Cleaned {
  text: string;
  percent: boolean;
}

/** Rule 2: what is left of an answer once everything that does not change its value is gone. */
export function cleanAnswer(raw: string): Cleaned {
  let s = raw.trim();
  for (let before = ''; before !== s;) {
    before = s;
    s = s
      .replace(/^\$+([\s\S]*?)\$+$/u, '$1')
      .replace(/^\\\(([\s\S]*)\\\)$/u, '$1')
      .replace(/^\\\[([\s\S]*)\\\]$/u, '$1')
      .trim();
  }
  s = s
    .replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![a-zA-Z])/gu, '')
    .replace(/\\(?:[,;:! ]|quad|qquad|displaystyle)|~/gu, ' ')
    .replace(/\\[dt]frac(?![a-zA-Z])/gu, '\\frac')
    .replace(/[\u2212\u2013]/gu, '-')
    .replace(/\u00d7/gu, '\\times ')
    .replace(/\u03c0/gu, '\\pi ')
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree|°/gu, '')
    .replace(/\\\$|\$|\\euro|€|£/gu, '');
  for (let before = ''; before !== s;) {
    before = s;
    s = s.replace(/\\(?:text|textbf|textit|textrm|mathrm|mathbf|mbox)\s*\{([^{}]*)\}/gu, ' $1 ');
  }
  s = s
    .replace(/(\d)\{,\}(?=\d{3})/gu, '$1')
    .replace(/\s+/gu, ' ')
    .trim()
    .replace(/[\s.;\u3002]+$/u, '');
  let percent = false;
  if (/\\?%$/u.test(s)) {
    percent = true;
    s = s.replace(/\s*\\?%$/u, '');
  }
  s = s
    .replace(/^(?:[a-zA-Z]|\\[a-zA-Z]+)\s*(?:=|\\in)\s*(?=[^=]*$)/u, '')
    .replace(/(^|[^\d,.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?)(?![\d,])/gu, (_, pre: string, n: string) => pre + n.replace(/,/gu, ''));
  const unit = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:\s*\/\s*\d+)?)\s*([A-Za-z][A-Za-z\s.^\d/]*)$/u.exec(s);
  if (unit && /^[A-Za-z]{2,}/u.test(unit[2]) && !MATH_WORDS.has((/^[A-Za-z]+/u.exec(unit[2]) as RegExpExecArray)[0].toLowerCase())) {
    s = unit[1];
  }
  const choice = /^\(([A-Ea-e])\)$/u.exec(s);
  if (choice) s = choice[1];
  return { text: s.trim(), percent };
}

const squash = (s: string) => s.replace(/\s+/gu, '').toLowerCase();
const PLAIN_NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/iu;

function close(a: number, b: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= RELATIVE_TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Top-level comma-separated items (commas inside brackets or braces do not split). */
function topLevelItems(s: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      items.push(s.slice(from, i));
      from = i + 1;
    }
  }
  items.push(s.slice(from));
  return items.map((x) => x.trim());
}

/** "(a, b]", "[a, b]", "(a, b)": an interval or a tuple, written with its brackets (they matter). */
function bracketed(s: string): { open: string; close: string; items: string[] } | undefined {
  if (!/^[([]/u.test(s) || !/[)\]]$/u.test(s)) return undefined;
  let depth = 0;
  for (let i = 0; i < s.length - 1; i++) {
    if ('([{'.includes(s[i])) depth++;
    else if (')]}'.includes(s[i])) depth--;
    if (depth === 0) return undefined;
  }
  const items = topLevelItems(s.slice(1, -1));
  return items.length > 1 ? { open: s[0], close: s[s.length - 1], items } : undefined;
}

/** Every item of `a` paired with a different equivalent item of `b`. */
function sameMultiset<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  if (a.length !== b.length) return false;
  const used = new Array<boolean>(b.length).fill(false);
  return a.every((x) => {
    const j = b.findIndex((y, k) => !used[k] && same(x, y));
    if (j < 0) return false;
    used[j] = true;
    return true;
  });
}

/** A plain-text formula ("sqrt(8)", "2*pi") as LaTeX, through mathjs; LaTeX and plain numbers pass through. */
function asLatex(s: string): string {
  if (s.includes('\\') || !/\*|\b(?:sqrt|pi|exp|log|ln|sin|cos|tan|abs)\b/u.test(s)) return s;
  try {
    mathjs ??= load('mathjs') as typeof MathJsModule;
    return mathjs.parse(s).toTex({ parenthesis: 'auto' });
  } catch {
    return s;
  }
}

/** Whether evaluating the expression could take long: a factorial or binomial of a large literal. */
function tooCostly(json: unknown): boolean {
  if (!Array.isArray(json)) return false;
  const [head, ...args] = json as unknown[];
  if (
    (head === 'Factorial' || head === 'Factorial2' || head === 'Binomial' || head === 'Gamma') &&
    args.some((a) => !(Number(a) <= LARGEST_FACTORIAL))
  )
    return true;
  return args.some(tooCostly);
}

function parse(s: string): Expression | undefined {
  try {
    const x = computeEngine().parse(asLatex(s));
    return x.isValid && !tooCostly(x.json) ? x : undefined;
  } catch {
    return undefined;
  }
}

function numericallyEqual(x: Expression, y: Expression): boolean {
  const names = [...new Set([...x.unknowns, ...y.unknowns])];
  const points = names.length === 0 ? [{}] : SAMPLE_POINTS.map((p) => Object.fromEntries(names.map((n, k) => [n, p + 0.1 * k])));
  return points.every((at) => {
    const vx = (names.length === 0 ? x : x.subs(at)).N();
    const vy = (names.length === 0 ? y : y.subs(at)).N();
    if (vx.unknowns.length > 0 || vy.unknowns.length > 0) return false;
    const [ax, ix, ay, iy] = [vx.re, vx.im, vy.re, vy.im];
    if ([ax, ay].some(Number.isNaN)) return false;
    return close(ax, ay) && close(ix || 0, iy || 0);
  });
}

/** A function expression's operands ([] for numbers and symbols). */
const operands = (e: Expression): readonly Expression[] => (e as { ops?: readonly Expression[] }).ops ?? [];

const ORDERED = new Set(['Tuple', 'List', 'Sequence', 'Pair', 'Triple']);

function endpoint(e: Expression): { open: boolean; value: Expression } {
  return e.operator === 'Open' ? { open: true, value: operands(e)[0] } : { open: false, value: e };
}

/** Rule 4 and 5 on parsed expressions. */
function sameExpression(x: Expression, y: Expression): boolean {
  const hx = x.operator;
  const hy = y.operator;
  if (hx === 'Union' || hy === 'Union') {
    const parts = (e: Expression) => (e.operator === 'Union' ? operands(e) : [e]);
    return sameMultiset(parts(x), parts(y), sameExpression);
  }
  if (hx === 'Interval' || hy === 'Interval') {
    if (hx !== hy) return false;
    const [a0, a1] = operands(x).map(endpoint);
    const [b0, b1] = operands(y).map(endpoint);
    return a0.open === b0.open && a1.open === b1.open && sameExpression(a0.value, b0.value) && sameExpression(a1.value, b1.value);
  }
  if (hx === 'Set' || hy === 'Set') return hx === hy && sameMultiset(operands(x), operands(y), sameExpression);
  if (ORDERED.has(hx) || ORDERED.has(hy)) {
    const ox = operands(x);
    const oy = operands(y);
    return ORDERED.has(hx) && ORDERED.has(hy) && ox.length === oy.length && ox.every((e, i) => sameExpression(e, oy[i]));
  }
  if (hx === 'Equal' || hy === 'Equal') {
    if (hx !== hy) return false;
    const [l1, r1] = operands(x);
    const [l2, r2] = operands(y);
    return (sameExpression(l1, l2) && sameExpression(r1, r2)) || (sameExpression(l1, r2) && sameExpression(r1, l2));
  }
  if (x.isSame(y) || x.isEqual(y) === true) return true;
  return numericallyEqual(x, y);
}

function sameCleaned(a: Cleaned, b: Cleaned): boolean {
  if (a.percent !== b.percent) {
    const [p, q] = a.percent ? [a, b] : [b, a];
    return sameCleaned({ text: p.text, percent: false }, q) || sameCleaned({ text: `\\frac{${p.text}}{100}`, percent: false }, q);
  }
  if (squash(a.text) === squash(b.text)) return true;
  if (a.text === '' || b.text === '' || a.text.length > MAX_ANSWER_CHARS || b.text.length > MAX_ANSWER_CHARS) return false;
  if (PLAIN_NUMBER.test(a.text) && PLAIN_NUMBER.test(b.text)) return close(Number(a.text), Number(b.text));
  const listOf = (s: string) => {
    const set = /^\\\{([\s\S]*)\\\}$/u.exec(s);
    const items = topLevelItems(set ? set[1] : s);
    return set || (items.length > 1 && !/^[([][\s\S]*[)\]]$/u.test(s)) ? items : undefined;
  };
  const la = listOf(a.text);
  const lb = listOf(b.text);
  if (la || lb) {
    const items = (l: string[] | undefined, s: string) => (l ?? [s]).map(cleanAnswer);
    return sameMultiset(items(la, a.text), items(lb, b.text), sameCleaned);
  }
  const ba = bracketed(a.text);
  const bb = bracketed(b.text);
  if (ba && bb) {
    return (
      ba.open === bb.open &&
      ba.close === bb.close &&
      ba.items.length === bb.items.length &&
      ba.items.every((x, i) => sameCleaned(cleanAnswer(x), cleanAnswer(bb.items[i])))
    );
  }
  const x = parse(a.text);
  const y = parse(b.text);
  if (x === undefined || y === undefined) return false;
  try {
    return sameExpression(x, y);
  } catch {
    return false;
  }
}

/** Whether two final answers are the same answer, by the rule at the top of this file. */
export function answersEquivalent(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  if (a.length > 4 * MAX_ANSWER_CHARS || b.length > 4 * MAX_ANSWER_CHARS) return a.trim() === b.trim();
  return sameCleaned(cleanAnswer(a), cleanAnswer(b));
}
