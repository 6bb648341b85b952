/**
 * dso eval against a stand-in model whose answers depend on the experiences
 * in its prompt: learning on the train split and evaluating on the test split
 * must show the library beating the baseline; token sums must be the
 * stand-in's own reports; an interrupted run resumes without asking again.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OpenAICompatibleChatModel, readDataset, splitDataset } from '../src/aso/index.js';
import { evaluate, nodeSource } from '../src/evaluate/index.js';
import { loadConfig } from '../src/node/config.js';
import { DsoNode } from '../src/node/dso-node.js';
import { buildHttpApi } from '../src/node/http/server.js';
import { checkLegend, legendInside } from './helpers/chart-check.js';
import { type ChatServer, startChatServer } from './helpers/chat-server.js';
import { FAMILIES, methodModel } from './helpers/method-model.js';

const DATA = 'test/fixtures/method-problems.jsonl';
const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-eval-'));
let server: ChatServer;
beforeAll(async () => {
  server = await startChatServer(methodModel({ baseAccuracy: 0.25, seed: 1 }));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI without blocking this process, which serves the stand-in model. */
function dso(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

interface Results {
  conditions: {
    name: string;
    passAt1: number;
    passAtK: number;
    samples: number;
    problems: number;
    tokens: { prompt: number; completion: number };
    costUsd: number;
    resumed: number;
  }[];
  deltas: { from: string; to: string; passAt1: number; ci95: [number, number] }[];
}

const split = ['--data', DATA, '--format', 'gsm8k', '--test-fraction', '0.4', '--seed', '3'];

describe('dso eval', () => {
  const lib = path.join(dir, 'lib.db');
  const out = path.join(dir, 'out');
  const evalArgs = () => [
    'eval',
    ...split,
    '--model-url',
    server.url,
    '--model',
    'stand-in',
    '--baseline',
    '--library',
    lib,
    '--samples',
    '4',
    '--price-prompt',
    '2',
    '--price-completion',
    '8',
    '--out',
    out,
  ];

  it('the library learned on the train split beats the baseline on the test split', async () => {
    const learned = await dso(
      'learn',
      ...split,
      '--split',
      'train',
      '--model-url',
      server.url,
      '--model',
      'stand-in',
      '--epochs',
      '1',
      '--group-size',
      '4',
      '--library',
      lib,
    );
    expect(learned.stderr).toBe('');
    expect(learned.status).toBe(0);
    const before = { ...server.reported };
    const r = await dso(...evalArgs());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    const [baseline, library] = res.conditions;
    expect(baseline).toMatchObject({ name: 'baseline', problems: 12, samples: 4, resumed: 0 });
    expect(library.name).toBe('library');
    expect(library.passAt1).toBeGreaterThan(baseline.passAt1 + 0.3);
    const [delta] = res.deltas;
    expect(delta).toMatchObject({ from: 'baseline', to: 'library' });
    expect(delta.ci95[0]).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/library vs baseline: pass@1 \+\d+\.\d points \(95% CI \d/u);
    // Every token the stand-in reported during the evaluation, and the cost at $2 and $8 per million.
    const prompt = res.conditions.reduce((n, c) => n + c.tokens.prompt, 0);
    const completion = res.conditions.reduce((n, c) => n + c.tokens.completion, 0);
    expect(prompt).toBe(server.reported.prompt - before.prompt);
    expect(completion).toBe(server.reported.completion - before.completion);
    expect(baseline.costUsd).toBeCloseTo((2 * baseline.tokens.prompt + 8 * baseline.tokens.completion) / 1e6, 12);
    // Every answer is recorded with what was injected.
    const lines = readFileSync(path.join(out, 'problems.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2 * 12 * 4);
    const rec = lines.map((l) => JSON.parse(l) as { condition: string; experiences: string[]; answer: string; reward: number });
    expect(rec.filter((x) => x.condition === 'baseline').every((x) => x.experiences.length === 0)).toBe(true);
    expect(rec.filter((x) => x.condition === 'library').every((x) => x.experiences.length === FAMILIES.length)).toBe(true);
    const chart = readFileSync(path.join(out, 'accuracy.svg'), 'utf8');
    expect(legendInside(checkLegend(chart))).toBe(true);
    expect(readFileSync(path.join(out, 'accuracy.png')).subarray(1, 4).toString()).toBe('PNG');
  }, 120_000);

  it('resumes from problems.jsonl after an interruption, and refuses to mix runs', async () => {
    const file = path.join(out, 'problems.jsonl');
    const first = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    // Interrupted after 30 answers, in the middle of writing the 31st.
    writeFileSync(file, `${lines.slice(0, 30).join('\n')}\n`);
    appendFileSync(file, lines[30].slice(0, 20));
    const asked = server.requests.length;
    const r = await dso(...evalArgs());
    expect(r.status).toBe(0);
    expect(server.requests.length - asked).toBe(2 * 12 * 4 - 30);
    const again = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    expect(again.conditions.reduce((n, c) => n + c.resumed, 0)).toBe(30);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2 * 12 * 4);
    expect(again.conditions[1].passAt1).toBeGreaterThan(again.conditions[0].passAt1);
    expect(again.conditions.map((c) => c.tokens)).toEqual(first.conditions.map((c) => c.tokens));

    const other = await dso(...evalArgs().map((a) => (a === '4' ? '2' : a)));
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/holds the answers of a different run .* pass --fresh/u);
    const none = await dso('eval', ...split, '--model-url', server.url, '--model', 'm');
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/name at least one condition/u);
  }, 120_000);

  it('evaluate() reads experiences from a running node, and keeps --concurrency requests in flight', async () => {
    const node = await DsoNode.start(loadConfig({ env: {}, flags: { 'data-dir': path.join(dir, 'node'), enabled: 'false' } }));
    const app = await buildHttpApi(node);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const slow = await startChatServer(methodModel({ delayMs: 50 }));
    try {
      await node.library.add(FAMILIES.map((f) => ({ text: f.lesson, confidence: 0.9 })));
      const problems = splitDataset(readDataset(DATA, { format: 'gsm8k' }), 'all');
      const model = new OpenAICompatibleChatModel({ baseUrl: slow.url, model: 'stand-in', concurrency: 8 });
      const report = await evaluate({
        model,
        problems,
        conditions: [{ name: 'baseline' }, { name: 'node', source: nodeSource(address) }],
        samples: 2,
        concurrency: 8,
      });
      expect(report.conditions[1].passAt1).toBe(1);
      expect(report.conditions[0].passAt1).toBeLessThan(0.6);
      expect(slow.maxInFlight).toBe(8);
    } finally {
      await slow.close();
      await app.close();
      await node.stop();
    }
  }, 120_000);
});
