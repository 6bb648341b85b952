/**
 * evaluate(): how well a model answers held-out problems under several
 * conditions (no experiences, a library, a node, ...), the way the DSO
 * experiments ask. Every condition sees the same problems and the same prompt
 * template; only the experiences in it differ. Each problem is answered
 * `samples` times per condition; each answer is scored by the reward
 * function (mathReward by default) and recorded as one JSON line (answer,
 * reward, tokens, the experiences injected), so an interrupted run resumes
 * where it stopped: answers already recorded are not asked again.
 *
 * A sample counts as right when its reward is 1. Per condition: pass@1 (the
 * mean over problems of the share of right samples), pass@k (the share of
 * problems with at least one right sample), the mean reward, tokens and cost
 * as the server reported them, with a bootstrap 95% interval for pass@1; and
 * between conditions, the paired difference in pass@1 with its interval.
 */
import { readFileSync, truncateSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { extractFinalAnswer } from '../aso/answers.js';
import type { DatasetProblem } from '../aso/datasets.js';
import type { ChatModel } from '../aso/models/chat-model.js';
import { costUsd, type TokenPrices } from '../aso/models/tokens.js';
import { ResultLog } from '../aso/result-log.js';
import { mathReward, type RewardFunction } from '../aso/rewards.js';
import { isArray, wholeNumber } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { Limiter } from '../core/limiter.js';
import { formatExperiences, injectExperiences } from '../experience/prompt.js';
import type { ExperienceSource } from './sources.js';
import { bootstrapMeanCi, mean, pairedBootstrapCi } from './stats.js';

export interface Condition {
  name: string;
  /** Where the experiences come from; none: the baseline, an empty experience list. */
  source?: ExperienceSource;
}

/** One answer to one problem under one condition: a line of the record file. */
export interface SampleRecord {
  condition: string;
  /** The problem's key (a hash of question and answer) and its line in the data file. */
  key: string;
  where: string;
  sample: number;
  answer: string | null;
  reward: number;
  tokens: { prompt: number; completion: number };
  /** Ids of the experiences injected into the prompt. */
  experiences: string[];
  ms: number;
}

export interface EvaluateOptions {
  model: ChatModel;
  problems: readonly DatasetProblem[];
  conditions: readonly Condition[];
  /** Answers per problem and condition (default 1). */
  samples?: number;
  /** Experiences injected per prompt (default 10). */
  retrieveK?: number;
  temperature?: number;
  /** Model requests in flight at once (default 4). */
  concurrency?: number;
  reward?: RewardFunction;
  /** US dollars per million tokens (default 0). */
  prices?: TokenPrices;
  /** JSON Lines file every answer is appended to; answers already in it are reused, not asked again. */
  recordFile?: string;
  /** Seed of the bootstrap (default 1) and its resamples (default 2000). */
  seed?: number;
  bootstrapRounds?: number;
  onProgress?: (condition: string, done: number, total: number) => void;
}

export interface ConditionResult {
  name: string;
  problems: number;
  samples: number;
  passAt1: number;
  passAtK: number;
  meanReward: number;
  /** 95% bootstrap interval of pass@1 over problems. */
  passAt1Ci95: [number, number];
  tokens: { prompt: number; completion: number };
  costUsd: number;
  /** Wall-clock seconds this run spent on the condition. */
  seconds: number;
  /** Answers taken from an earlier, interrupted run. */
  resumed: number;
  /** The evaluation's own time per problem outside model calls (retrieval, prompts, scoring, records). */
  overheadMsPerProblem: number;
}

export interface ConditionDelta {
  from: string;
  to: string;
  /** pass@1(to) - pass@1(from), paired by problem. */
  passAt1: number;
  ci95: [number, number];
  problems: number;
}

export interface EvaluationReport {
  conditions: ConditionResult[];
  deltas: ConditionDelta[];
  /** Per condition, each problem's pass@1, in the order of the problems. */
  scores: Record<string, number[]>;
}

const recordKey = (condition: string, key: string, sample: number) => `${condition}\u0000${key}\u0000${sample}`;

/** Records of an earlier run; a last line cut short by an interruption is dropped from the file too. */
function readRecords(file: string): Map<string, SampleRecord> {
  const out = new Map<string, SampleRecord>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw new DsoError('IO_ERROR', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  const whole = text.lastIndexOf('\n') + 1;
  if (whole < text.length) truncateSync(file, Buffer.byteLength(text.slice(0, whole)));
  text
    .slice(0, whole)
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let r: SampleRecord;
      try {
        r = JSON.parse(line) as SampleRecord;
      } catch {
        throw new DsoError('INVALID_ARGUMENT', `${file}:${i + 1}: not a JSON record`);
      }
      if (typeof r?.condition !== 'string' || typeof r.key !== 'string' || !Number.isInteger(r.sample) || typeof r.reward !== 'number')
        throw new DsoError('INVALID_ARGUMENT', `${file}:${i + 1}: not an evaluation record`);
      out.set(recordKey(r.condition, r.key, r.sample), r);
    });
  return out;
}

export async function evaluate(o: EvaluateOptions): Promise<EvaluationReport> {
  if (o === null || typeof o !== 'object' || !o.model || !isArray(o.problems) || !isArray(o.conditions))
    throw new DsoError('INVALID_ARGUMENT', 'evaluate needs { model, problems, conditions }');
  if (o.problems.length === 0) throw new DsoError('INVALID_ARGUMENT', 'evaluate needs at least one problem');
  if (o.conditions.length === 0) throw new DsoError('INVALID_ARGUMENT', 'evaluate needs at least one condition');
  const names = o.conditions.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new DsoError('INVALID_ARGUMENT', `condition names must differ: ${names.join(', ')}`);
  const samples = wholeNumber(o.samples ?? 1, 'samples', 'INVALID_COUNT', 1, 1024);
  const k = wholeNumber(o.retrieveK ?? 10, 'retrieveK', 'INVALID_K', 1, 100);
  const limiter = new Limiter(wholeNumber(o.concurrency ?? 4, 'concurrency', 'INVALID_COUNT', 1, 4096));
  const reward = o.reward ?? mathReward;
  const prices = o.prices ?? { prompt: 0, completion: 0 };
  const seed = o.seed ?? 1;
  const done = o.recordFile !== undefined ? readRecords(o.recordFile) : new Map<string, SampleRecord>();
  const log = o.recordFile !== undefined ? new ResultLog(o.recordFile) : undefined;
  const results: ConditionResult[] = [];
  const scores = new Map<string, number[]>();
  try {
    for (const condition of o.conditions) {
      const t0 = performance.now();
      let overheadMs = 0;
      let finished = 0;
      const total = o.problems.length * samples;
      const records: SampleRecord[][] = o.problems.map(() => []);
      const prompts = new Map<number, Promise<{ prompt: string; ids: string[] }>>();
      const promptFor = (p: number) => {
        let at = prompts.get(p);
        if (at === undefined) {
          at = (async () => {
            const list = condition.source ? await condition.source.retrieve(o.problems[p].query, k) : [];
            const block = formatExperiences(list);
            return { prompt: injectExperiences(o.problems[p].query, block.text), ids: block.labels };
          })();
          prompts.set(p, at);
        }
        return at;
      };
      const tasks: Promise<void>[] = [];
      let resumed = 0;
      o.problems.forEach((problem, p) => {
        for (let s = 0; s < samples; s++) {
          const earlier = done.get(recordKey(condition.name, problem.key, s));
          if (earlier !== undefined) {
            records[p].push(earlier);
            resumed++;
            o.onProgress?.(condition.name, ++finished, total);
            continue;
          }
          tasks.push(
            limiter.run(async () => {
              const start = performance.now();
              const { prompt, ids } = await promptFor(p);
              const asked = performance.now();
              const r = await o.model.chat([{ role: 'user', content: prompt }], { temperature: o.temperature });
              const answered = performance.now();
              const value = await reward(r.content, problem.groundTruth, problem.query);
              if (typeof value !== 'number' || !Number.isFinite(value))
                throw new DsoError('NON_FINITE', `the reward function returned ${String(value)} for ${problem.where}`);
              const record: SampleRecord = {
                condition: condition.name,
                key: problem.key,
                where: problem.where,
                sample: s,
                answer: extractFinalAnswer(r.content) ?? null,
                reward: value,
                tokens: { prompt: r.usage?.promptTokens ?? 0, completion: r.usage?.completionTokens ?? 0 },
                experiences: ids,
                ms: Math.round(answered - asked),
              };
              log?.write(record as unknown as Record<string, unknown>);
              records[p].push(record);
              overheadMs += performance.now() - start - (answered - asked);
              o.onProgress?.(condition.name, ++finished, total);
            }),
          );
        }
      });
      await Promise.all(tasks);
      const all = records.flat();
      const right = records.map((rs) => rs.filter((r) => r.reward >= 1).length);
      const perProblem = right.map((c) => c / samples);
      scores.set(condition.name, perProblem);
      const tokens = {
        prompt: all.reduce((n, r) => n + r.tokens.prompt, 0),
        completion: all.reduce((n, r) => n + r.tokens.completion, 0),
      };
      results.push({
        name: condition.name,
        problems: o.problems.length,
        samples,
        passAt1: mean(perProblem),
        passAtK: mean(right.map((c) => (c > 0 ? 1 : 0))),
        meanReward: mean(all.map((r) => r.reward)),
        passAt1Ci95: bootstrapMeanCi(perProblem, { seed, rounds: o.bootstrapRounds }),
        tokens,
        costUsd: costUsd({ ...tokens, calls: 0, unreported: 0 }, prices),
        seconds: (performance.now() - t0) / 1000,
        resumed,
        overheadMsPerProblem: overheadMs / o.problems.length,
      });
    }
  } finally {
    log?.close();
  }
  const deltas: ConditionDelta[] = [];
  for (let i = 0; i < results.length; i++) {
    for (let j = i + 1; j < results.length; j++) {
      const a = scores.get(results[i].name) as number[];
      const b = scores.get(results[j].name) as number[];
      deltas.push({
        from: results[i].name,
        to: results[j].name,
        passAt1: mean(b) - mean(a),
        ci95: pairedBootstrapCi(a, b, { seed, rounds: o.bootstrapRounds }),
        problems: a.length,
      });
    }
  }
  return { conditions: results, deltas, scores: Object.fromEntries(scores) };
}
