import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ChatServer, startChatServer } from './helpers/chat-server.js';
import { tutor } from './helpers/tutor.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-learn-'));
let server: ChatServer;
beforeAll(async () => {
  server = await startChatServer(
    tutor({
      answers: { 'both sides': ['2', '5'], 'What is 3 * 3': ['9'] },
      lesson: 'When an equation has a variable on both sides, move every variable term to one side first.',
    }),
  );
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

describe('dso learn and dso library', () => {
  const lib = path.join(dir, 'lib.db');
  const data = path.join(dir, 'problems.jsonl');

  it('learns from a dataset through an OpenAI-compatible server', async () => {
    writeFileSync(
      data,
      [
        JSON.stringify({ query: 'Solve 3x + 2 = x + 6 (x on both sides).', groundTruth: '2', domain: 'math' }),
        JSON.stringify({ problem: 'What is 3 * 3?', answer: 9 }),
        '',
      ].join('\n'),
    );
    const log = path.join(dir, 'log.jsonl');
    const r = await dso(
      'learn',
      '--data',
      data,
      '--model-url',
      server.url,
      '--model',
      'stand-in',
      '--epochs',
      '2',
      '--library',
      lib,
      '--log',
      log,
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /epoch 1: 2 problems, mean reward 0\.800, 1 groups without a lesson, 1 changes to the library \(0 duplicates left out\), library 1 experiences/u,
    );
    // The same lesson again changes nothing, and says so.
    expect(r.stdout).toMatch(/epoch 2: .* 0 changes to the library \(1 duplicates left out\), library 1 experiences/u);
    // Token sums are the stand-in's own reports (10 prompt + 5 completion tokens a call).
    const calls = server.requests.length;
    expect(r.stdout).toContain(`run: 2 epochs, ${calls} model calls, ${10 * calls} prompt + ${5 * calls} completion tokens\n`);
    const types = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types.filter((t) => t === 'step')).toHaveLength(4);
    const logged = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; tokens: { prompt: number; calls: number } })
      .filter((l) => l.type !== 'epoch');
    expect(logged.reduce((n, l) => n + l.tokens.calls, 0)).toBe(calls);
    expect(logged.reduce((n, l) => n + l.tokens.prompt, 0)).toBe(10 * calls);
  }, 60_000);

  it('lists, searches, exports and imports the library', async () => {
    const list = await dso('library', 'list', '--library', lib, '--json');
    expect(list.status).toBe(0);
    const [e] = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; text: string; domain: string; usageCount: number });
    expect(e).toMatchObject({ domain: 'math', text: expect.stringMatching(/^When an equation has a variable on both sides/u) as unknown });
    expect(e.usageCount).toBeGreaterThan(0);
    const search = await dso('library', 'search', '--library', lib, '--query', 'variable on both sides of an equation', '--k', '3');
    expect(search.stdout).toContain(e.id);
    const out = path.join(dir, 'export.jsonl');
    expect((await dso('library', 'export', '--library', lib, '--out', out)).status).toBe(0);
    const imp = await dso('library', 'import', '--library', lib, '--namespace', 'copy', '--in', out);
    expect(imp.stdout).toMatch(/imported 1 experiences/u);
    const copy = await dso('library', 'list', '--library', lib, '--namespace', 'copy', '--json');
    // Content addressing: the same text in the same domain has the same id in any library.
    expect((JSON.parse(copy.stdout.trim()) as { id: string }).id).toBe(e.id);
  }, 60_000);

  it('exits 2 with a typed error on bad input', async () => {
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"query": "x"}\n');
    const r = await dso('learn', '--data', bad, '--model-url', server.url, '--model', 'm', '--library', lib);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/dso: INVALID_ARGUMENT: .*bad\.jsonl:1: the auto format needs a "groundTruth" or "answer"/u);
    const noUrl = await dso('learn', '--data', data, '--model', 'm');
    expect(noUrl.status).toBe(2);
    expect(noUrl.stderr).toMatch(/^dso: required option '--model-url <url>' not specified\nUsage: dso learn \[options\]/u);
    const wrong = await dso('library', 'frob', '--library', lib);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/^dso: unknown command 'frob'/u);
    const badImport = path.join(dir, 'bad-import.jsonl');
    writeFileSync(badImport, '{"text": "When fine, fine."}\n{"text": "not an experience"}\n');
    const imp = await dso('library', 'import', '--library', lib, '--namespace', 'copy2', '--in', badImport);
    expect(imp.stderr).toMatch(/INVALID_EXPERIENCE/u);
    const after = await dso('library', 'list', '--library', lib, '--namespace', 'copy2', '--json');
    expect(after.stdout.trim()).toBe('');
  }, 60_000);
});
