/**
 * NODE: retrieval requests against a running `dso node` (its own process,
 * learning and network off, a library filled to its default capacity of 200
 * experiences), driven by autocannon from this process over 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';

import type { Row } from '../lib/report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function nodeLoadWorkload(seconds: number, libraryRows = 200): Promise<Row[]> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dso-bench-node-'));
  const port = 21_000 + (process.pid % 10_000);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'src/cli/main.ts'),
      'node',
      '--data-dir',
      dataDir,
      '--port',
      String(port),
      '--enabled',
      'false',
      '--capacity',
      String(Math.max(200, libraryRows)),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, DSO_LOG_LEVEL: 'warn' },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 300; i++) {
      try {
        if ((await fetch(`${url}/health`)).ok) break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const experiences = Array.from({ length: libraryRows }, (_, i) => ({
      text: `When task family ${i} comes up, use technique ${(i * 37) % 101} and verify step ${i % 9}.`,
      confidence: 0.8,
    }));
    await fetch(`${url}/experiences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ experiences }),
    });
    const requests = Array.from({ length: 64 }, (_, i) => ({
      method: 'POST' as const,
      path: '/retrieve',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `which technique for task family ${i * 3} and step ${i % 9}`, k: 5 }),
    }));
    const run = (duration: number) => autocannon({ url, connections: 16, duration, requests });
    await run(2);
    const r = await run(seconds);
    const errors = r.errors + r.non2xx;
    return [
      {
        workload: 'NODE retrieval over HTTP',
        impl: 'dso node, POST /retrieve (autocannon, 16 connections)',
        size: `library ${libraryRows}, k 5, ${seconds} s`,
        seconds: r.latency.average / 1000,
        throughput: r.requests.average,
        unit: 'req/s',
        note: `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${errors} errors (target >= 2,000 req/s, p99 <= 10 ms)`,
      },
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
