/**
 * A stand-in model whose answers depend on its prompt the way a real model's
 * do, for evaluations that can fail. It knows six families of problems (a
 * percent of a number, a remainder, an average, a distance, a sum of
 * fractions, a square root to simplify). It answers a problem right when an
 * experience in its prompt names the family's method; when an experience
 * tells it to answer without calculating, it is misled; otherwise it is right
 * at a fixed rate, drawn from a seeded hash of the prompt and of how often it
 * has seen that prompt (so repeated samples differ, and a run repeats
 * exactly). Asked by the optimizer what it learned, it states the method of
 * the problem's family. Usage is reported as a quarter of the characters.
 */
import { createHash } from 'node:crypto';

import type { ChatRequest, Reply } from './chat-server.js';
import { acceptProposals } from './tutor.js';

interface Family {
  name: string;
  pattern: RegExp;
  solve(m: RegExpExecArray): { right: string; wrong: string };
  /** Words of the lesson the model needs to see to answer right. */
  method: string;
  lesson: string;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

export const FAMILIES: Family[] = [
  {
    name: 'percent',
    pattern: /What is (\d+)% of (\d+)\?/u,
    solve: (m) => ({ right: String((Number(m[1]) * Number(m[2])) / 100), wrong: String(Number(m[1]) * Number(m[2])) }),
    method: 'divide by 100',
    lesson: 'When a problem asks for a percent of a number, multiply the number by the percent and then divide by 100.',
  },
  {
    name: 'remainder',
    pattern: /remainder when (\d+) is divided by (\d+)/u,
    solve: (m) => ({ right: String(Number(m[1]) % Number(m[2])), wrong: String(Math.floor(Number(m[1]) / Number(m[2]))) }),
    method: 'largest multiple',
    lesson: 'When a problem asks for the remainder of a division, subtract the largest multiple of the divisor and keep what is left.',
  },
  {
    name: 'average',
    pattern: /average of (\d+), (\d+) and (\d+)\?/u,
    solve: (m) => {
      const sum = Number(m[1]) + Number(m[2]) + Number(m[3]);
      return { right: String(sum / 3), wrong: String(sum) };
    },
    method: 'how many numbers',
    lesson: 'When a problem asks for the average of numbers, add them and divide the sum by how many numbers there are.',
  },
  {
    name: 'distance',
    pattern: /travels at (\d+) km per hour for (\d+) hours/u,
    solve: (m) => ({ right: String(Number(m[1]) * Number(m[2])), wrong: String(Number(m[1]) + Number(m[2])) }),
    method: 'speed by the time',
    lesson: 'When a problem gives a speed and a travel time, multiply the speed by the time to get the distance travelled.',
  },
  {
    name: 'fraction',
    pattern: /What is (\d+)\/(\d+) plus (\d+)\/(\d+)\?/u,
    solve: (m) => {
      const [a, b, c, d] = [1, 2, 3, 4].map((i) => Number(m[i]));
      const p = a * d + c * b;
      const q = b * d;
      const g = gcd(p, q);
      return { right: `\\frac{${p / g}}{${q / g}}`, wrong: `\\frac{${a + c}}{${b + d}}` };
    },
    method: 'common denominator',
    lesson: 'When a problem adds two fractions, rewrite both over a common denominator before adding the numerators.',
  },
  {
    name: 'root',
    pattern: /Simplify the square root of (\d+)\./u,
    solve: (m) => {
      const n = Number(m[1]);
      let a = 1;
      for (let f = 2; f * f <= n; f++) if (n % (f * f) === 0) a = f;
      return { right: `${a}\\sqrt{${n / (a * a)}}`, wrong: `\\sqrt{${n / (a * a)}}` };
    },
    method: 'perfect square',
    lesson: 'When a problem asks to simplify a square root, take the largest perfect square factor out of the root.',
  },
];

/** What misleads the stand-in: advice to skip the calculation. */
export const POISON = 'without calculating';

export interface MethodModelOptions {
  /** Chance of a right answer with no helpful experience (default 0.25). */
  baseAccuracy?: number;
  seed?: number;
  /** Milliseconds before each answer (default 0). */
  delayMs?: number;
}

function unit(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

const usageOf = (prompt: string, content: string) => ({ prompt: Math.ceil(prompt.length / 4), completion: Math.ceil(content.length / 4) });

export function familyOf(problem: string): { family: Family; match: RegExpExecArray } | undefined {
  for (const family of FAMILIES) {
    const match = family.pattern.exec(problem);
    if (match) return { family, match };
  }
  return undefined;
}

export function methodModel(opts: MethodModelOptions = {}): (req: ChatRequest) => Reply {
  const base = opts.baseAccuracy ?? 0.25;
  const seed = opts.seed ?? 1;
  const seen = new Map<string, number>();
  const reply = (prompt: string, content: string): Reply => ({ content, usage: usageOf(prompt, content), delayMs: opts.delayMs });
  return (req) => {
    const prompt = req.messages.map((m) => m.content).join('\n');
    const last = req.messages[req.messages.length - 1].content;
    if (last.startsWith('Solve the problem below')) {
      const experiences = /Experiences:\n([\s\S]*?)\n\nProblem:/u.exec(last)?.[1] ?? '';
      const problem = /Problem:\n([\s\S]*?)\n\nReason step by step/u.exec(last)?.[1] ?? '';
      const found = familyOf(problem);
      if (found === undefined) return reply(prompt, 'I cannot solve this. \\boxed{0}');
      const n = seen.get(last) ?? 0;
      seen.set(last, n + 1);
      const { right, wrong } = found.family.solve(found.match);
      const misled = experiences.includes(POISON);
      const helped = experiences.includes(found.family.method);
      const ok = !misled && (helped || unit(`${seed}\u0000${last}\u0000${n}`) < base);
      const how = helped && !misled ? `Using the method: ${found.family.method}.` : 'Let me try directly.';
      return reply(
        prompt,
        `${how}\nWorking through the ${found.family.name} problem step by step.\nSo the answer is \\boxed{${ok ? right : wrong}}.`,
      );
    }
    if (last.startsWith('You are reviewing one attempt')) return reply(prompt, 'The attempt set up the calculation and reported a result.');
    if (last.startsWith('Several attempts') || last.startsWith('That answer could not be used')) {
      const problem = /Problem:\n([\s\S]*?)\n\nCorrect answer/u.exec(prompt)?.[1] ?? '';
      const found = familyOf(problem);
      const operations = found ? [{ op: 'add', text: found.family.lesson }] : [];
      return reply(prompt, JSON.stringify({ operations }));
    }
    if (last.startsWith('You maintain a library')) return reply(prompt, acceptProposals(last));
    return { status: 400, raw: JSON.stringify({ error: 'unexpected prompt' }) };
  };
}

/** Problems of every family, `perFamily` each, as GSM8K lines (question, rationale, "#### answer"). */
export function methodProblems(perFamily: number, seed = 1): { question: string; answer: string }[] {
  const out: { question: string; answer: string }[] = [];
  for (let i = 0; i < perFamily; i++) {
    const r = (k: number, lo: number, hi: number) => lo + Math.floor(unit(`${seed}:${i}:${k}`) * (hi - lo + 1));
    const questions = [
      `What is ${5 * r(1, 1, 19)}% of ${20 * r(2, 1, 40)}?`,
      `What is the remainder when ${r(3, 100, 999)} is divided by ${r(4, 3, 19)}?`,
      `What is the average of ${3 * r(5, 1, 30)}, ${3 * r(6, 1, 30)} and ${3 * r(7, 1, 30)}?`,
      `A train travels at ${r(8, 20, 120)} km per hour for ${r(9, 2, 9)} hours. How many km does it cover?`,
      `What is ${r(10, 1, 5)}/${r(11, 2, 9)} plus ${r(12, 1, 5)}/${r(13, 2, 9)}?`,
      `Simplify the square root of ${[2, 3, 5, 6, 7][r(14, 0, 4)] * r(15, 2, 9) ** 2}.`,
    ];
    for (const q of questions) {
      const found = familyOf(q);
      if (found === undefined) throw new Error(`no family for ${q}`);
      // Written as a dataset would, not as the model answers: an unreduced fraction, a root left whole.
      const m = found.match;
      const truth =
        found.family.name === 'fraction'
          ? `${Number(m[1]) * Number(m[4]) + Number(m[3]) * Number(m[2])}/${Number(m[2]) * Number(m[4])}`
          : found.family.name === 'root'
            ? `\\sqrt{${m[1]}}`
            : found.family.solve(m).right;
      out.push({ question: q, answer: `Work it out step by step.\n#### ${truth}` });
    }
  }
  return out;
}
