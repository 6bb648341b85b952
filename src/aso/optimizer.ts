/**
 * ActiveSemanticOptimizer: training-free GRPO (Cai et al., 2025). The model's
 * weights never change; what it learns is the experience library injected
 * into its prompts.
 *
 * step(): retrieve experiences for the problem, run `groupSize` rollouts with
 * them, score each with the reward function, and compute group advantages.
 * A group whose rewards all agree is skipped; otherwise the semantic
 * advantage is extracted: each rollout is summarised, and from the summaries
 * and their advantages the model proposes at most `maxOperations` operations
 * on the library. Proposals wait until consolidate() (run by epoch() at the
 * end of each batch), which reconciles them with the library in one model
 * call and applies the result as one atomic batch.
 *
 * Malformed model output is asked for once more, then the group (or the
 * consolidation) is skipped with the reason recorded; the library is only
 * ever changed by whole batches.
 */
import { performance } from 'node:perf_hooks';

import { isArray, wholeNumber } from '../core/checks.js';
import { describeError, DsoError } from '../core/errors.js';
import type { Experience } from '../experience/experience.js';
import type { ApplyResult, ExperienceLibrary } from '../experience/library.js';
import type { LibraryOperation } from '../experience/operations.js';
import { fillTemplate, formatExperiences } from '../experience/prompt.js';
import { groupAdvantages } from './advantages.js';
import type { ChatMessage, ChatModel, ChatOptions, ChatResponse } from './models/chat-model.js';
import { addTokens, countCall, noTokens, type TokenCounts } from './models/tokens.js';
import { parseOperations } from './parse-operations.js';
import { CONSOLIDATE_TEMPLATE } from './prompts/consolidate.js';
import { EXTRACT_TEMPLATE } from './prompts/extract.js';
import { SUMMARIZE_TEMPLATE } from './prompts/summarize.js';
import { ResultLog } from './result-log.js';
import { mathReward, type RewardFunction } from './rewards.js';

export interface OptimizerOptions {
  library: ExperienceLibrary;
  model: ChatModel;
  /** Rollouts per problem (default 5). */
  groupSize?: number;
  /** Most operations one group may propose (default 3). */
  maxOperations?: number;
  /** Experiences injected into each rollout's prompt (default 10). */
  retrieveK?: number;
  /** Default: mathReward (final-answer match). */
  reward?: RewardFunction;
  rolloutTemperature?: number;
  /** Temperature of the summary, extraction and consolidation calls (default 0.2). */
  analysisTemperature?: number;
  /** JSONL file every step and consolidation is appended to. */
  resultLog?: string;
  /** Recorded as the source of added experiences (default: the library's). */
  source?: string;
}

export interface Problem {
  query: string;
  groundTruth: string;
  domain?: string;
}

export interface StepTimings {
  totalMs: number;
  /** Wall time spent waiting for the model. */
  modelMs: number;
  /** Everything else: retrieval, prompts, rewards, parsing. */
  overheadMs: number;
}

export interface StepResult {
  step: number;
  epoch: number;
  query: string;
  domain: string;
  rewards: number[];
  advantages: number[];
  meanReward: number;
  /** Experiences injected into the rollouts' prompt. */
  experiencesUsed: string[];
  /** Why no operations came out of this group, if none did. */
  skipped?: string;
  /** Proposals waiting for consolidate(). */
  candidates: LibraryOperation[];
  timings: StepTimings;
  /** What the step's model calls cost, as the server reported it. */
  tokens: TokenCounts;
}

export interface ConsolidationResult {
  candidates: number;
  operations: LibraryOperation[];
  applied?: ApplyResult;
  /** Why the proposals were applied without the model's consolidation. */
  fallback?: string;
  /** Why nothing was applied. */
  skipped?: string;
  tokens: TokenCounts;
}

export interface EpochProgress {
  epoch: number;
  epochs: number;
  done: number;
  total: number;
  meanReward: number;
}

export interface EpochSummary {
  epoch: number;
  steps: number;
  skipped: number;
  meanReward: number;
  /** Operations that changed the library: experiences added, modified, merged or deleted. */
  operationsApplied: number;
  /** Additions the library already held, word for word or as a near-duplicate: they only raised a confidence. */
  duplicates: number;
  librarySize: number;
  /** Steps and consolidations of the epoch together. */
  tokens: TokenCounts;
}

/** Outcomes that changed what the library holds; 'duplicate' and 'folded' only strengthened what it had. */
const CHANGES = new Set(['added', 'modified', 'merged', 'deleted']);

type Chat = (messages: readonly ChatMessage[], opts?: ChatOptions) => Promise<ChatResponse>;

/** What the parts of one step share: its result, the clock of its model calls, its counted chat, and finish(). */
interface StepRun {
  result: StepResult;
  model: <T>(calls: () => Promise<T>) => Promise<T>;
  chat: Chat;
  finish(skipped?: string): StepResult;
}

interface Candidate {
  operation: LibraryOperation;
  domain: string;
}

function referencedIds(op: LibraryOperation): string[] {
  if (op.op === 'modify' || op.op === 'delete') return [op.id];
  if (op.op === 'merge') return op.ids;
  return [];
}

export class ActiveSemanticOptimizer {
  readonly library: ExperienceLibrary;
  readonly model: ChatModel;
  readonly groupSize: number;
  readonly maxOperations: number;
  private readonly retrieveK: number;
  private readonly reward: RewardFunction;
  private readonly rolloutTemperature: number;
  private readonly analysisTemperature: number;
  private readonly source?: string;
  private readonly log?: ResultLog;
  private pending: Candidate[] = [];
  private steps = 0;
  /** Every model call this optimizer made, since it was created. */
  readonly tokens: TokenCounts = noTokens();

  constructor(opts: OptimizerOptions) {
    if (opts === null || typeof opts !== 'object' || !opts.library || !opts.model) {
      throw new DsoError('INVALID_ARGUMENT', 'ActiveSemanticOptimizer needs { library, model }');
    }
    this.library = opts.library;
    this.model = opts.model;
    this.groupSize = wholeNumber(opts.groupSize ?? 5, 'groupSize', 'INVALID_COUNT', 2, 1024);
    this.maxOperations = wholeNumber(opts.maxOperations ?? 3, 'maxOperations', 'INVALID_COUNT', 1, 100);
    this.retrieveK = wholeNumber(opts.retrieveK ?? 10, 'retrieveK', 'INVALID_K', 1);
    this.reward = opts.reward ?? mathReward;
    this.rolloutTemperature = opts.rolloutTemperature ?? 0.7;
    this.analysisTemperature = opts.analysisTemperature ?? 0.2;
    this.source = opts.source;
    this.log = opts.resultLog !== undefined ? new ResultLog(opts.resultLog) : undefined;
  }

  /** Proposals from steps since the last consolidation. */
  get pendingOperations(): LibraryOperation[] {
    return this.pending.map((c) => c.operation);
  }

  /**
   * Learns from rollouts the agent ran itself (at least two responses to the
   * problem, with the experiences it used), instead of running them: the
   * rewards, advantages and semantic extraction are those of step().
   */
  async learnFromRollouts(problem: Problem & { responses: string[]; experiencesUsed?: string[] }): Promise<StepResult> {
    if (!Array.isArray(problem?.responses) || problem.responses.length < 2 || !problem.responses.every((r) => typeof r === 'string')) {
      throw new DsoError('INVALID_ARGUMENT', 'learnFromRollouts needs responses: at least two strings');
    }
    return this.runGroup(problem, problem.responses, problem.experiencesUsed);
  }

  async step(problem: Problem): Promise<StepResult> {
    return this.runGroup(problem);
  }

  /** One GRPO-style group: rollouts, rewards, advantages, summaries, then proposed operations (pending until consolidated). */
  private async runGroup(problem: Problem, given?: string[], givenUsed?: string[]): Promise<StepResult> {
    if (problem === null || typeof problem !== 'object' || typeof problem.query !== 'string' || typeof problem.groundTruth !== 'string') {
      throw new DsoError('INVALID_ARGUMENT', 'step needs { query: string, groundTruth: string, domain? }');
    }
    const run = this.beginStep(problem);
    const { result } = run;
    const prompt = given
      ? { prompt: '', labels: (givenUsed ?? []).filter((id) => this.library.has(id)) }
      : await this.library.buildPrompt(problem.query, { k: this.retrieveK });
    result.experiencesUsed = prompt.labels;
    let rollouts: string[];
    try {
      rollouts = given ?? (await this.rollouts(run, prompt.prompt));
    } catch (e) {
      return run.finish(`rollouts failed: ${describeError(e)}`);
    }
    const rewards = await this.rewards(problem, rollouts);
    result.rewards = rewards;
    result.meanReward = rewards.reduce((s, r) => s + r, 0) / rewards.length;
    const advantages = groupAdvantages(rewards);
    if (advantages === undefined) return run.finish('all rewards equal: no advantage to learn from');
    result.advantages = advantages;
    let summaries: string[];
    try {
      summaries = await this.summaries(run, problem, rollouts, rewards);
    } catch (e) {
      return run.finish(`summaries failed: ${describeError(e)}`);
    }
    const ask = this.extractionRequest(problem, prompt.labels, rewards, advantages, summaries);
    const parsed = await this.askForOperations(ask.content, { ...ask.ctx, domain: result.domain }, run.model, run.chat);
    if (typeof parsed === 'string') return run.finish(parsed);
    result.candidates = parsed;
    for (const operation of parsed) this.pending.push({ operation, domain: result.domain });
    return run.finish(parsed.length === 0 ? 'the model proposed no operations' : undefined);
  }

  /** A step's result, its token count and model-time clock, and finish(), which stamps the timings and logs it. */
  private beginStep(problem: Problem): StepRun {
    const t0 = performance.now();
    let modelMs = 0;
    const model = async <T>(calls: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      try {
        return await calls();
      } finally {
        modelMs += performance.now() - t;
      }
    };
    const tokens = noTokens();
    const result: StepResult = {
      step: this.steps++,
      epoch: this.library.epoch,
      query: problem.query,
      domain: problem.domain ?? 'general',
      rewards: [],
      advantages: [],
      meanReward: 0,
      experiencesUsed: [],
      candidates: [],
      timings: { totalMs: 0, modelMs: 0, overheadMs: 0 },
      tokens,
    };
    const finish = (skipped?: string): StepResult => {
      if (skipped !== undefined) result.skipped = skipped;
      const totalMs = performance.now() - t0;
      result.timings = { totalMs, modelMs, overheadMs: totalMs - modelMs };
      this.log?.write({ type: 'step', ...result });
      return result;
    };
    return { result, model, chat: this.counted(tokens), finish };
  }

  /** groupSize answers to the prompt, sampled at the rollout temperature. */
  private async rollouts(run: StepRun, prompt: string): Promise<string[]> {
    const answers = await run.model(() =>
      Promise.all(
        Array.from({ length: this.groupSize }, () =>
          run.chat([{ role: 'user', content: prompt }], { temperature: this.rolloutTemperature }),
        ),
      ),
    );
    return answers.map((r) => r.content);
  }

  private async rewards(problem: Problem, rollouts: string[]): Promise<number[]> {
    const rewards = await Promise.all(rollouts.map((r) => Promise.resolve(this.reward(r, problem.groundTruth, problem.query))));
    rewards.forEach((r, i) => {
      if (typeof r !== 'number' || !Number.isFinite(r))
        throw new DsoError('NON_FINITE', `the reward function returned ${String(r)} for rollout ${i}`);
    });
    return rewards;
  }

  /** One summary per rollout, each told whether it beat the group's mean. */
  private async summaries(run: StepRun, problem: Problem, rollouts: string[], rewards: number[]): Promise<string[]> {
    const mean = run.result.meanReward;
    const answers = await run.model(() =>
      Promise.all(
        rollouts.map((response, i) =>
          run.chat(
            [
              {
                role: 'user',
                content: fillTemplate(SUMMARIZE_TEMPLATE, {
                  problem: problem.query,
                  groundTruth: problem.groundTruth,
                  outcome: rewards[i] > mean ? 'better than the group average' : 'no better than the group average',
                  reward: String(rewards[i]),
                  response,
                }),
              },
            ],
            { temperature: this.analysisTemperature },
          ),
        ),
      ),
    );
    return answers.map((r) => r.content.trim());
  }

  /** The request for operations: attempts best first, the experiences used, and the confidence the group's spread earns. */
  private extractionRequest(problem: Problem, labels: string[], rewards: number[], advantages: number[], summaries: string[]) {
    const order = advantages.map((_, i) => i).sort((a, b) => advantages[b] - advantages[a]);
    const attempts = order
      .map(
        (i) =>
          `Attempt ${i + 1} (advantage ${advantages[i] >= 0 ? '+' : ''}${advantages[i].toFixed(2)}, reward ${rewards[i]}):\n${summaries[i]}`,
      )
      .join('\n\n');
    const used = labels.map((id) => this.library.get(id)).filter((e): e is Experience => e !== undefined);
    const listing = formatExperiences(used);
    const spread = Math.max(...rewards) - Math.min(...rewards);
    const content = fillTemplate(EXTRACT_TEMPLATE, {
      problem: problem.query,
      groundTruth: problem.groundTruth,
      experiences: listing.text,
      summaries: attempts,
      maxOperations: String(this.maxOperations),
    });
    return {
      content,
      ctx: {
        labels: listing.labels,
        maxOperations: this.maxOperations,
        confidence: Math.min(1, Math.max(0, 0.5 + 0.4 * spread)),
        source: this.source,
      },
    };
  }

  /** One model call for operations, asked once more if the answer cannot be used; a string is the reason to skip. */
  private async askForOperations(
    content: string,
    ctx: Parameters<typeof parseOperations>[1],
    model: <T>(calls: () => Promise<T>) => Promise<T>,
    chat: Chat,
  ): Promise<LibraryOperation[] | string> {
    const messages: ChatMessage[] = [{ role: 'user', content }];
    for (let attempt = 0; attempt < 2; attempt++) {
      let answer: string;
      try {
        answer = (await model(() => chat(messages, { temperature: this.analysisTemperature }))).content;
      } catch (e) {
        return `operations request failed: ${describeError(e)}`;
      }
      try {
        return parseOperations(answer, ctx);
      } catch (e) {
        if (!(e instanceof DsoError) || e.code !== 'MODEL_BAD_RESPONSE') throw e;
        if (attempt === 1) return `malformed operations twice: ${e.message}`;
        messages.push(
          { role: 'assistant', content: answer },
          { role: 'user', content: `That answer could not be used: ${e.message}. Answer again with JSON only: {"operations": [...]}.` },
        );
      }
    }
    return 'unreachable';
  }

  /** The model's chat, counting each call's tokens into `tally` and into this optimizer's total. */
  private counted(tally: TokenCounts): Chat {
    return async (messages, opts) => {
      const r = await this.model.chat(messages, opts);
      countCall(tally, r);
      countCall(this.tokens, r);
      return r;
    };
  }

  /**
   * Reconciles the pending proposals with the library (one model call) and
   * applies the result as one batch. Proposals whose experiences have gone
   * meanwhile are dropped first; if the model's answer is unusable twice, or
   * names a change the library refuses, the proposals are applied as they are.
   */
  async consolidate(): Promise<ConsolidationResult> {
    const pending = this.pending;
    this.pending = [];
    const tokens = noTokens();
    const valid = pending.filter((c) => referencedIds(c.operation).every((id) => this.library.has(id)));
    if (valid.length === 0)
      return this.logConsolidation({
        candidates: pending.length,
        operations: [],
        skipped: pending.length === 0 ? 'no proposals' : 'every proposal refers to experiences that are gone',
        tokens,
      });

    // The library experiences the proposals touch or resemble, so the model can merge instead of duplicating.
    const related = new Map<string, Experience>();
    for (const c of valid) for (const id of referencedIds(c.operation)) related.set(id, this.library.get(id) as Experience);
    for (const c of valid) {
      if (c.operation.op === 'delete' || c.operation.op === 'keep') continue;
      for (const r of await this.library.retrieve(c.operation.text, { k: 3, countUsage: false }))
        related.set(r.experience.id, r.experience);
    }
    const listing = formatExperiences([...related.values()]);
    const label = (id: string) => `G${listing.labels.indexOf(id) + 1}`;
    let p = 0;
    const lines = valid.map(({ operation: o }) => {
      switch (o.op) {
        case 'add':
          return `- add P${++p}: ${o.text}`;
        case 'modify':
          return `- modify ${label(o.id)} -> ${o.text}`;
        case 'merge':
          return `- merge ${o.ids.map(label).join(', ')} -> ${o.text}`;
        case 'delete':
          return `- delete ${label(o.id)}`;
        default:
          return '- keep';
      }
    });
    const domains = new Map(valid.filter((c) => c.operation.op !== 'delete').map((c) => [(c.operation as { text: string }).text, c]));
    const fallbackDomain = valid[0].domain;
    const proposed = valid.map((c) => c.operation).filter((o): o is Extract<LibraryOperation, { op: 'add' }> => o.op === 'add');
    const meanConfidence = proposed.length > 0 ? proposed.reduce((s, o) => s + (o.confidence ?? 0.5), 0) / proposed.length : 0.5;
    const parsed = await this.askForOperations(
      fillTemplate(CONSOLIDATE_TEMPLATE, { experiences: listing.text, candidates: lines.join('\n') }),
      {
        labels: listing.labels,
        maxOperations: valid.length + listing.labels.length,
        domain: fallbackDomain,
        confidence: meanConfidence,
        source: this.source,
      },
      (calls) => calls(),
      this.counted(tokens),
    );
    const original = valid.map((c) => c.operation);
    let operations: LibraryOperation[];
    let fallback: string | undefined;
    if (typeof parsed === 'string') {
      operations = original;
      fallback = parsed;
    } else {
      // A consolidated addition that repeats a proposal keeps the proposal's domain and confidence.
      operations = parsed.map((o) => {
        const from = o.op === 'add' ? domains.get(o.text)?.operation : undefined;
        return from?.op === 'add' ? { ...o, domain: from.domain, confidence: from.confidence } : o;
      });
    }
    try {
      const applied = await this.library.applyOperations(operations);
      return this.logConsolidation({ candidates: pending.length, operations, applied, fallback, tokens });
    } catch (e) {
      if (operations === original)
        return this.logConsolidation({
          candidates: pending.length,
          operations: [],
          skipped: `library refused the proposals: ${describeError(e)}`,
          tokens,
        });
      try {
        const applied = await this.library.applyOperations(original);
        return this.logConsolidation({
          candidates: pending.length,
          operations: original,
          applied,
          fallback: `library refused the consolidated operations: ${describeError(e)}`,
          tokens,
        });
      } catch (e2) {
        return this.logConsolidation({
          candidates: pending.length,
          operations: [],
          skipped: `library refused the proposals: ${describeError(e2)}`,
          tokens,
        });
      }
    }
  }

  private logConsolidation(r: ConsolidationResult): ConsolidationResult {
    this.log?.write({ type: 'consolidation', epoch: this.library.epoch, ...r });
    return r;
  }

  /**
   * Runs the dataset `epochs` times. Each epoch advances the library's epoch,
   * steps through the problems in order, and consolidates after every
   * `batchSize` problems (default: once, at the end of the epoch).
   */
  async epoch(opts: {
    dataset: readonly Problem[];
    epochs?: number;
    batchSize?: number;
    onProgress?: (p: EpochProgress) => void;
  }): Promise<EpochSummary[]> {
    const { dataset } = opts;
    if (!isArray(dataset) || dataset.length === 0) throw new DsoError('INVALID_ARGUMENT', 'epoch needs a non-empty dataset');
    const epochs = wholeNumber(opts.epochs ?? 1, 'epochs', 'INVALID_COUNT', 1);
    const batchSize = wholeNumber(opts.batchSize ?? dataset.length, 'batchSize', 'INVALID_COUNT', 1);
    const out: EpochSummary[] = [];
    for (let e = 0; e < epochs; e++) {
      await this.library.setEpoch(this.library.epoch + 1);
      const summary: EpochSummary = {
        epoch: this.library.epoch,
        steps: 0,
        skipped: 0,
        meanReward: 0,
        operationsApplied: 0,
        duplicates: 0,
        librarySize: 0,
        tokens: noTokens(),
      };
      let rewardSum = 0;
      for (let i = 0; i < dataset.length; i++) {
        const r = await this.step(dataset[i]);
        summary.steps++;
        addTokens(summary.tokens, r.tokens);
        if (r.skipped !== undefined) summary.skipped++;
        rewardSum += r.meanReward;
        opts.onProgress?.({ epoch: e + 1, epochs, done: i + 1, total: dataset.length, meanReward: rewardSum / (i + 1) });
        if ((i + 1) % batchSize === 0 || i === dataset.length - 1) {
          const c = await this.consolidate();
          addTokens(summary.tokens, c.tokens);
          for (const o of c.applied?.outcomes ?? []) {
            if (CHANGES.has(o.status)) summary.operationsApplied++;
            else if (o.status === 'duplicate' || o.status === 'folded') summary.duplicates++;
          }
        }
      }
      summary.meanReward = rewardSum / dataset.length;
      summary.librarySize = this.library.size;
      this.log?.write({ type: 'epoch', ...summary });
      out.push(summary);
    }
    return out;
  }

  close(): void {
    this.log?.close();
  }
}
