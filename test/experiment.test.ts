/**
 * dso experiment federated against the stand-in model: nodes that share
 * through the DSO protocol beat nodes that keep to their own experiences;
 * every token the stand-in reported is accounted for; Byzantine nodes'
 * invented experiences are kept out by the robust merge at a sound voting
 * threshold, and get in (and cost accuracy) at a careless one.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OpenAICompatibleChatModel, readDataset, splitDataset } from '../src/aso/index.js';
import { HashingEmbedder } from '../src/experience/index.js';
import { type FederatedReport, runFederated } from '../src/experiment/federated.js';
import { checkLegend, legendInside } from './helpers/chart-check.js';
import { type ChatServer, startChatServer } from './helpers/chat-server.js';
import { methodModel } from './helpers/method-model.js';

const DATA = 'test/fixtures/method-problems.jsonl';
const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-fed-'));
let server: ChatServer;
beforeAll(async () => {
  server = await startChatServer(methodModel({ seed: 1 }));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

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

const passAt1 = (r: FederatedReport, name: string) => r.conditions.find((c) => c.name === name)?.passAt1 ?? Number.NaN;

describe('dso experiment federated', () => {
  it('shared experiences beat own-only, and every reported token is counted', async () => {
    const out = path.join(dir, 'fed');
    const before = { ...server.reported };
    const r = await dso(
      'experiment',
      'federated',
      ...['--data', DATA, '--format', 'gsm8k', '--test-fraction', '0.4', '--seed', '3'],
      ...['--model-url', server.url, '--model', 'stand-in', '--nodes', '3', '--samples', '2', '--out', out],
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as FederatedReport;
    expect(res.conditions.map((c) => c.name)).toEqual(['baseline', 'own', 'shared', 'central']);
    expect(passAt1(res, 'own')).toBeGreaterThan(passAt1(res, 'baseline'));
    expect(passAt1(res, 'shared')).toBeGreaterThan(passAt1(res, 'own'));
    expect(res.merge.accepted).toBeGreaterThan(0);
    expect(res.communication).toMatchObject({ batches: 3, batchesAccepted: 3 });
    expect(res.communication.bytesSentPerNode).toBeGreaterThan(0);
    // Each node received the other two batches.
    const sent = res.nodes.map((x) => x.bytesSent);
    res.nodes.forEach((x, i) => expect(x.bytesReceived).toBe(sent.reduce((s, b) => s + b, 0) - sent[i]));
    expect(res.nodes.every((x) => x.sharedExperiences >= x.ownExperiences)).toBe(true);
    const spent = (k: 'prompt' | 'completion') =>
      res.learning.nodes[k] + res.learning.central[k] + res.conditions.reduce((s, c) => s + c.tokens[k], 0);
    expect(spent('prompt')).toBe(server.reported.prompt - before.prompt);
    expect(spent('completion')).toBe(server.reported.completion - before.completion);
    expect(r.stdout).toMatch(/^shared .* sent, .* received/mu);
    expect(legendInside(checkLegend(readFileSync(path.join(out, 'accuracy.svg'), 'utf8')))).toBe(true);
  }, 180_000);

  it('keeps Byzantine inventions out at a sound voting threshold; a careless one lets them in', async () => {
    const problems = readDataset(DATA, { format: 'gsm8k' });
    const run = (votingThreshold: number) =>
      runFederated({
        model: new OpenAICompatibleChatModel({ baseUrl: server.url, model: 'stand-in', concurrency: 8 }),
        embedder: new HashingEmbedder(),
        train: splitDataset(problems, 'train', { testFraction: 0.4, seed: 3 }),
        test: splitDataset(problems, 'test', { testFraction: 0.4, seed: 3 }),
        nodes: 4,
        byzantine: 0.25,
        attack: 'sybil',
        votingThreshold,
        samples: 2,
        seed: 3,
      });
    const sound = await run(0.3);
    expect(sound.nodes.filter((x) => x.byzantine)).toHaveLength(1);
    expect(sound.merge.fromByzantineOnly).toBe(0);
    expect(sound.keptByHonest).toBeGreaterThan(0.9);
    const careless = await run(0.2);
    expect(careless.merge.fromByzantineOnly).toBeGreaterThan(0);
    expect(passAt1(careless, 'shared')).toBeLessThan(passAt1(careless, 'shared (honest batches only)'));
    expect(careless.keptByHonest).toBeLessThan(0.5);
  }, 180_000);
});
