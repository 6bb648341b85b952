/**
 * NODE: retrieval requests against a running `dso node` (its own process,
 * learning and network off, a library filled to its default capacity of 200
 * experiences), driven by autocannon from this process over 127.0.0.1; then
 * the same while 1,000 slow connections (headers or bodies that never
 * finish) are kept open against it, with /health timed alongside.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
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
    const authorization = `Bearer ${readFileSync(path.join(dataDir, 'http.token'), 'utf8').trim()}`;
    await fetch(`${url}/experiences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
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
    const attacked = await underSlowClients(url, port, seconds, () => run(seconds));
    return [
      ...attacked,
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

/** Slow requests that never finish: half the connections stop inside the headers, half inside a body. */
function slowConnection(port: number, i: number, onClose: () => void): Socket {
  const s = connect(port, '127.0.0.1', () => {
    s.write(
      i % 2
        ? `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `
        : `POST /retrieve HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"query":`,
    );
  });
  s.resume();
  s.on('error', () => undefined);
  s.once('close', onClose);
  return s;
}

/** The retrieval load again with 1,000 slow connections held open (re-opened as the node sheds them), and /health timed throughout. */
async function underSlowClients(url: string, port: number, seconds: number, load: () => Promise<autocannon.Result>): Promise<Row[]> {
  const TARGET = 1000;
  let open = 0;
  let opened = 0;
  let stopped = false;
  const sockets = new Set<Socket>();
  const top = () => {
    while (!stopped && open < TARGET) {
      open++;
      opened++;
      const s = slowConnection(port, opened, () => {
        open--;
        sockets.delete(s);
        setImmediate(top);
      });
      sockets.add(s);
    }
  };
  top();
  await new Promise((r) => setTimeout(r, 1000));
  const health: number[] = [];
  let healthFailures = 0;
  const prober = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      try {
        const h = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
        if (!h.ok) healthFailures++;
        health.push(performance.now() - t0);
      } catch {
        healthFailures++;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  const r = await load();
  stopped = true;
  await prober;
  for (const s of sockets) s.destroy();
  health.sort((a, b) => a - b);
  const p = (q: number) => health[Math.min(health.length - 1, Math.floor(q * health.length))] ?? NaN;
  const shed = opened - TARGET;
  return [
    {
      workload: 'NODE retrieval under slow clients',
      impl: `dso node, POST /retrieve (autocannon, 16 connections) beside ${TARGET} slow connections`,
      size: `library 200, k 5, ${seconds} s`,
      seconds: r.latency.average / 1000,
      throughput: r.requests.average,
      unit: 'req/s',
      note: `p99 ${r.latency.p99} ms, ${r.errors + r.non2xx} errors; ${shed} slow connections shed or timed out and re-opened`,
    },
    {
      workload: 'NODE /health under slow clients',
      impl: 'GET /health every 50 ms during the run above',
      size: `${health.length} probes`,
      seconds: p(0.5) / 1000,
      throughput: health.length / seconds,
      unit: 'probes/s',
      note: `p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, ${healthFailures} failed`,
    },
  ];
}
