import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import {
  ActiveSemanticOptimizer,
  answersEquivalent,
  extractBoxed,
  extractFinalAnswer,
  groupAdvantages,
  mathReward,
  OpenAICompatibleChatModel,
} from '../src/aso/index.js';
import { ExperienceLibrary } from '../src/experience/index.js';
import { type ChatServer, startChatServer } from './helpers/chat-server.js';
import { tutor } from './helpers/tutor.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-aso-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let server: ChatServer | undefined;
let lib: ExperienceLibrary | undefined;
afterEach(async () => {
  await server?.close();
  await lib?.close();
  server = undefined;
  lib = undefined;
});

const LESSON = 'When an equation has a variable on both sides, move every variable term to one side first.';

async function setup(handler: Parameters<typeof startChatServer>[0], opts: { log?: string } = {}) {
  server = await startChatServer(handler);
  lib = await ExperienceLibrary.open();
  const model = new OpenAICompatibleChatModel({ baseUrl: server.url, model: 'stand-in', backoffMs: 1, retries: 1 });
  return new ActiveSemanticOptimizer({ library: lib, model, resultLog: opts.log });
}

describe('rewards', () => {
  it('reads the final answer and compares it numerically or as text', () => {
    expect(extractBoxed('a \\boxed{1} then \\boxed{\\frac{1}{2}}')).toBe('\\frac{1}{2}');
    expect(extractBoxed('\\boxed{unclosed')).toBeUndefined();
    expect(extractFinalAnswer('so the final answer: 42.')).toBe('42.');
    expect(extractFinalAnswer('we get 3 then 7')).toBe('7');
    expect(answersEquivalent('\\frac{1}{2}', '0.5')).toBe(true);
    expect(answersEquivalent('1,000', '1000')).toBe(true);
    expect(answersEquivalent('50\\%', '0.5')).toBe(true);
    expect(answersEquivalent('$x = 3$', 'x=3')).toBe(true);
    expect(answersEquivalent('\\text{Paris}', 'paris')).toBe(true);
    expect(answersEquivalent('3', '4')).toBe(false);
    expect(mathReward('thus \\boxed{12}', '12', '')).toBe(1);
    expect(mathReward('thus \\boxed{13}', '12', '')).toBe(0);
    expect(mathReward('no answer here', '12', '')).toBe(0);
  });

  it('computes group advantages, and none for a uniform group', () => {
    expect(groupAdvantages([1, 0, 1, 0])).toEqual([1, -1, 1, -1]);
    expect(groupAdvantages([1, 1, 1])).toBeUndefined();
    expect(groupAdvantages([])).toBeUndefined();
  });
});

describe('ActiveSemanticOptimizer through a local chat server', () => {
  it('learns an experience from a group with mixed rewards', async () => {
    const log = path.join(dir, 'mixed.jsonl');
    const aso = await setup(tutor({ answers: { '3x + 2 = x + 6': ['2', '4', '2', '3', '2'] }, lesson: LESSON }), { log });
    const r = await aso.step({ query: 'Solve 3x + 2 = x + 6.', groundTruth: '2', domain: 'math' });
    expect(r.rewards).toEqual([1, 0, 1, 0, 1]);
    expect(r.skipped).toBeUndefined();
    expect(r.candidates).toEqual([{ op: 'add', text: LESSON, domain: 'math', confidence: 0.9 }]);
    expect(lib?.size).toBe(0);
    const c = await aso.consolidate();
    expect(c.fallback).toBeUndefined();
    expect(c.applied?.added).toHaveLength(1);
    const [e] = (lib as ExperienceLibrary).list();
    expect(e).toMatchObject({ text: LESSON, domain: 'math', confidence: 0.9 });
    // 5 rollouts + 5 summaries + 1 extraction + 1 consolidation.
    expect(server?.requests).toHaveLength(12);
    expect(r.timings.overheadMs).toBeLessThan(r.timings.totalMs);
    // The next rollouts see the lesson in their prompt.
    const next = await aso.step({ query: 'Solve 5x + 1 = 2x + 7 with the variable on both sides.', groundTruth: '2', domain: 'math' });
    expect(next.experiencesUsed).toEqual([e.id]);
    const prompts = (server as ChatServer).requests
      .map((q) => q.messages[0].content)
      .filter((p) => p.startsWith('Solve the problem below'));
    expect(prompts[prompts.length - 1]).toContain(`[G1] (math, conf:0.90) ${LESSON}`);
    aso.close();
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(lines.map((l) => l.type)).toEqual(['step', 'consolidation', 'step']);
  });

  it('adds nothing from a group whose rewards are all equal', async () => {
    const aso = await setup(tutor({ answers: { 'What is 2 + 2': ['4'] } }));
    const r = await aso.step({ query: 'What is 2 + 2?', groundTruth: '4' });
    expect(r.rewards).toEqual([1, 1, 1, 1, 1]);
    expect(r.skipped).toMatch(/all rewards equal/u);
    expect(server?.requests).toHaveLength(5);
    expect((await aso.consolidate()).skipped).toBe('no proposals');
    expect(lib?.size).toBe(0);
  });

  it('asks once more after malformed operations, then skips the group with the reason', async () => {
    const answers = { 'Solve 7x': ['1', '2'] };
    const twice = await setup(tutor({ answers, extraction: () => 'I think we should add a lesson!' }));
    const r = await twice.step({ query: 'Solve 7x = 7.', groundTruth: '1' });
    expect(r.skipped).toMatch(/malformed operations twice/u);
    expect(r.candidates).toEqual([]);
    expect(twice.pendingOperations).toEqual([]);
    await server?.close();
    await lib?.close();

    const once = await setup(
      tutor({
        answers,
        extraction: (_, n) =>
          n === 0 ? '{"operations": [{"op": "add", "text": "too short"}]}' : JSON.stringify({ operations: [{ op: 'add', text: LESSON }] }),
      }),
    );
    const r2 = await once.step({ query: 'Solve 7x = 7.', groundTruth: '1' });
    expect(r2.skipped).toBeUndefined();
    expect(r2.candidates).toHaveLength(1);
    const retry = (server as ChatServer).requests.at(-1);
    expect(retry?.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('maps G labels back to ids and applies modify, delete and add as one batch', async () => {
    const ops = JSON.stringify({
      operations: [
        { op: 'modify', id: 'G1', text: 'When isolating a variable, undo addition before multiplication.' },
        { op: 'delete', id: 'G2' },
        { op: 'add', text: LESSON },
        { op: 'add', text: 'When this is the fourth operation, it is over the limit.' },
      ],
    });
    const aso = await setup(tutor({ answers: { 'Solve 2x + 3': ['3', '1'] }, extraction: () => ops }));
    const seeded = await (lib as ExperienceLibrary).add([
      { text: 'When isolating a variable in an equation, undo operations in reverse order.', domain: 'math', confidence: 0.6 },
      { text: 'When solving an equation with 2x, divide by zero to simplify.', domain: 'math', confidence: 0.6 },
    ]);
    const r = await aso.step({ query: 'Solve 2x + 3 = 9 for the variable in this equation.', groundTruth: '3', domain: 'math' });
    expect(r.candidates).toHaveLength(3);
    const byLabel = new Map(r.experiencesUsed.map((id, i) => [`G${i + 1}`, id]));
    expect(r.candidates[0]).toMatchObject({ op: 'modify', id: byLabel.get('G1') });
    expect(r.candidates[1]).toMatchObject({ op: 'delete', id: byLabel.get('G2') });
    const c = await aso.consolidate();
    expect(c.operations.map((o) => o.op)).toEqual(['modify', 'delete', 'add']);
    const l = lib as ExperienceLibrary;
    expect(l.size).toBe(2);
    expect(seeded.added.some((id) => l.has(id))).toBe(false);
    expect(
      l
        .list()
        .map((e) => e.text)
        .sort(),
    ).toEqual(['When isolating a variable, undo addition before multiplication.', LESSON].sort());
    expect(c.applied?.outcomes.map((o) => o.status)).toEqual(['modified', 'deleted', 'added']);
  });

  it('falls back to the proposals when consolidation answers nonsense twice', async () => {
    const base = tutor({ answers: { 'Solve 9x': ['1', '0'] }, lesson: LESSON });
    const aso = await setup((req, n) => (req.messages[0].content.startsWith('You maintain a library') ? 'no json at all' : base(req, n)));
    await aso.step({ query: 'Solve 9x = 9.', groundTruth: '1' });
    const c = await aso.consolidate();
    expect(c.fallback).toMatch(/malformed operations twice/u);
    expect((lib as ExperienceLibrary).list().map((e) => e.text)).toEqual([LESSON]);
  });

  it('records failed rollouts as a skipped group and leaves the library alone', async () => {
    const aso = await setup(() => ({ status: 500, raw: 'down' }));
    const r = await aso.step({ query: 'Solve x = 1.', groundTruth: '1' });
    expect(r.skipped).toMatch(/rollouts failed: MODEL_ERROR/u);
    expect(lib?.size).toBe(0);
  });

  it('runs epochs over a dataset with progress and consolidation', async () => {
    const aso = await setup(
      tutor({
        answers: { 'Problem A': ['1', '2'], 'Problem B': ['5'] },
        extraction: (p) =>
          JSON.stringify({ operations: [{ op: 'add', text: p.includes('Problem A') ? LESSON : 'When B appears, do B.' }] }),
      }),
    );
    const progress: number[] = [];
    const out = await aso.epoch({
      dataset: [
        { query: 'Problem A: solve.', groundTruth: '1', domain: 'math' },
        { query: 'Problem B: solve.', groundTruth: '5', domain: 'math' },
      ],
      epochs: 2,
      onProgress: (p) => progress.push(p.done),
    });
    expect(progress).toEqual([1, 2, 1, 2]);
    expect(out.map((e) => e.epoch)).toEqual([1, 2]);
    expect(out[0]).toMatchObject({ steps: 2, skipped: 1, meanReward: 0.8, librarySize: 1 });
    // Epoch 2 proposes the same lesson again: it folds into the existing one.
    expect(lib?.size).toBe(1);
    expect(lib?.epoch).toBe(2);
    await expect(aso.epoch({ dataset: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
