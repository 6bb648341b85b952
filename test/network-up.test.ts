/**
 * A DSO network of real processes, as a newcomer starts it: `dso network up`
 * (anvil, the registry, funded member keys, three `dso node` processes on
 * 127.0.0.1), an experience posted to one node reaching the others through
 * their syncs, `status`, and `down` stopping every process it started.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { NetworkFile } from '../src/cli/network/layout.js';
import { alive } from '../src/cli/network/processes.js';
import { anvilBinary } from '../src/network/anvil.js';
import { call, dso } from './helpers/network-cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-netup-'));
const base = 22_000 + (process.pid % 5_000) * 2;
let started: NetworkFile | undefined;

afterAll(() => {
  // Whatever happened above, no process of this test outlives it.
  if (started) dso('network', 'down', '--dir', dir);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(anvilBinary() === undefined)('dso network up: three node processes on one anvil chain', () => {
  it('starts, shares an experience from node 1 to nodes 2 and 3, reports status, and stops every process', async () => {
    const up = dso(
      'network',
      'up',
      '--nodes',
      '3',
      '--dir',
      dir,
      '--http-port',
      String(base),
      '--p2p-port',
      String(base + 10),
      '--chain-port',
      String(base + 20),
    );
    expect(up.status, up.stderr).toBe(0);
    started = JSON.parse(readFileSync(path.join(dir, 'network.json'), 'utf8')) as NetworkFile;
    expect(started.nodes).toHaveLength(3);
    for (const n of started.nodes) expect(alive(n.pid)).toBe(true);
    expect(up.stdout).toContain(started.registryAddress);
    const [a, b, c] = started.nodes;
    const text = 'When a network starts, check that every node answers its health endpoint.';
    expect((await call(a, '/experiences', { experiences: [{ text, domain: 'ops', confidence: 0.9 }] })).status).toBe(200);
    expect((await call(a, '/sync')).json.submitted).toMatchObject({ records: 1 });
    for (const n of [b, c]) expect((await call(n, '/sync')).status).toBe(200);
    for (const n of [b, c]) await call(n, '/sync');
    for (const n of [b, c]) {
      const found = await call(n, '/retrieve', { query: 'does every node answer its health endpoint' });
      expect((found.json.experiences as Array<{ text: string }>).map((e) => e.text)).toContain(text);
    }
    const status = dso('network', 'status', '--dir', dir, '--json');
    expect(status.status, status.stderr).toBe(0);
    const rows = JSON.parse(status.stdout) as Array<{ name: string; state: string; library: number; peers: number }>;
    expect(rows.map((r) => [r.state, r.library])).toEqual([
      ['up', 1],
      ['up', 1],
      ['up', 1],
    ]);
    for (const r of rows) expect(r.peers).toBe(2);
    const down = dso('network', 'down', '--dir', dir);
    expect(down.status, down.stderr).toBe(0);
    for (const n of started.nodes) expect(alive(n.pid)).toBe(false);
    expect(alive(started.chain.pid)).toBe(false);
    // Up again on the same directory: the same network, with its data.
    const again = dso('network', 'up', '--dir', dir, '--nodes', '3');
    expect(again.status, again.stderr).toBe(0);
    const restarted = JSON.parse(readFileSync(path.join(dir, 'network.json'), 'utf8')) as NetworkFile;
    expect(restarted.registryAddress).toBe(started.registryAddress);
    started = restarted;
    const kept = await call(restarted.nodes[2], '/retrieve', { query: 'does every node answer its health endpoint' });
    expect((kept.json.experiences as Array<{ text: string }>).map((e) => e.text)).toContain(text);
  }, 300_000);
});
