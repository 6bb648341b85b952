/**
 * LIVE: a DSO network of real processes on this machine, as `dso network up`
 * starts it (anvil, automining; the registry; 5 `dso node` processes on
 * 127.0.0.1). Node 1 holds `records` new experiences; the clock starts when
 * its sync begins (compress, build, sign, register, gossip) and stops when
 * every other node holds all of them: each syncs back to back (fetch,
 * verify, vote, robust merge) until it does. Bytes are the nodes' own
 * counters (blocks published, blocks fetched) over the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NetworkFile, NodeEntry } from '../../src/cli/network/layout.js';
import { xorshift } from '../lib/data.js';
import type { Row } from '../lib/report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NODES = 5;

function dso(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`dso ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function call(n: NodeEntry, route: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(`${n.http}${route}`, {
    method: body === undefined && route !== '/sync' ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${readFileSync(n.tokenFile, 'utf8').trim()}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  if (!r.ok) throw new Error(`${n.name} ${route}: ${r.status} ${await r.text()}`);
  return (await r.json()) as Record<string, unknown>;
}

/** Distinct one-sentence experiences: words drawn without a shared template, so none is a near-duplicate of another. */
function experiences(n: number): { text: string; domain: string; confidence: number }[] {
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'be', 'du', 'fi', 'go', 'ha', 'ju', 'pe', 'zo'];
  const random = xorshift(12345);
  const syllable = () => syllables[random() % syllables.length];
  const pick = () => `${syllable()}${syllable()}${syllable()}`;
  return Array.from({ length: n }, (_, i) => ({
    text: `When ${pick()} ${pick()} ${pick()} ${pick()} ${i}, ${pick()} ${pick()} ${pick()} ${pick()} ${pick()}.`,
    domain: 'bench',
    confidence: 0.9,
  }));
}

const metrics = async (n: NodeEntry) => (await call(n, '/status')).metrics as { bytesIn: number; bytesOut: number };

export async function liveNetworkWorkload(records: number): Promise<Row[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-bench-live-'));
  const base = 33_000 + (process.pid % 1_000) * 10;
  try {
    dso(
      ...['network', 'up', '--nodes', String(NODES), '--dir', dir, '--capacity', String(records * 2)],
      ...['--http-port', String(base), '--p2p-port', String(base + 5), '--chain-port', String(base + 9 + NODES)],
    );
    const net = JSON.parse(readFileSync(path.join(dir, 'network.json'), 'utf8')) as NetworkFile;
    const [first, ...others] = net.nodes;
    for (const n of net.nodes) {
      const end = Date.now() + 60_000;
      while (((await call(n, '/status')).p2p as { topicPeers: number }).topicPeers < NODES - 1) {
        if (Date.now() > end) throw new Error(`${n.name} did not reach its peers`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const all = experiences(records);
    for (let i = 0; i < all.length; i += 500) await call(first, '/experiences', { experiences: all.slice(i, i + 500) });
    const before = await Promise.all(net.nodes.map(metrics));
    const t0 = performance.now();
    const sent = (await call(first, '/sync')).submitted as { records: number } | undefined;
    if (sent?.records !== records) throw new Error(`node-1 submitted ${sent?.records ?? 0} records, not ${records}`);
    const done = await Promise.all(
      others.map(async (n) => {
        const end = Date.now() + 300_000;
        for (;;) {
          await call(n, '/sync');
          const size = ((await call(n, '/status')).library as { size: number }).size;
          if (size >= records) return (performance.now() - t0) / 1000;
          if (Date.now() > end) throw new Error(`${n.name} holds ${size} of ${records} after 300 s`);
        }
      }),
    );
    const after = await Promise.all(net.nodes.map(metrics));
    const delta = net.nodes.map((_, i) => ({ in: after[i].bytesIn - before[i].bytesIn, out: after[i].bytesOut - before[i].bytesOut }));
    const seconds = Math.max(...done);
    const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
    return [
      {
        workload: 'LIVE batch to every node',
        impl: `${NODES} dso node processes + anvil (automine), each syncing back to back`,
        size: `${records} experiences, 1 batch`,
        seconds,
        throughput: records / seconds,
        unit: 'records/s',
        note:
          `merged on the last node after ${seconds.toFixed(2)} s (others: ${done.map((d) => d.toFixed(2)).join(', ')} s; target < 10 s); ` +
          `node-1 sent ${kib(delta[0].out)}, each other node fetched ${delta
            .slice(1)
            .map((d) => kib(d.in))
            .join(' / ')}`,
      },
    ];
  } finally {
    spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'network', 'down', '--dir', dir], {
      timeout: 120_000,
    });
    rmSync(dir, { recursive: true, force: true });
  }
}
