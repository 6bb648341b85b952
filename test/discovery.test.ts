/**
 * Peers from the chain: four real `dso node` processes on anvil whose
 * configurations name no peers, only rpcUrl and registryAddress. Members a
 * and b (funded) announce their endpoints and are found by everyone; member
 * c has no funds, so its announcement fails with one log line and it still
 * dials a and b; d is no member and only reads and dials. When b restarts,
 * the others reconnect to it on their own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { keccak256, parseEther, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectChain } from '../src/network/chain.js';
import { identityFromKey } from '../src/network/identity.js';
import { RegistryClient } from '../src/network/registry.js';
import { type Anvil, anvilBinary, startAnvil } from './helpers/anvil.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-discovery-'));
const base = 31_000 + (process.pid % 4_000) * 2;

interface Running {
  name: string;
  http: string;
  config: string;
  child: ChildProcess;
  /** What the node logged (JSON lines at warn and above) and printed on stderr. */
  log: string;
}

interface Status {
  p2p: { addresses: string[]; topicPeers: number; discovery: { announced: string | null; discovered: number; lastError: string | null } };
}

function startNode(name: string, http: string, config: string): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'node', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DSO_LOG_LEVEL: 'warn' },
  });
  const n: Running = { name, http, config, child, log: '' };
  child.stdout.on('data', (d: Buffer) => (n.log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (n.log += d.toString()));
  return n;
}

function stopNode(n: Running): Promise<void> {
  return new Promise<void>((ok) => {
    if (n.child.exitCode !== null || n.child.signalCode !== null) return ok();
    n.child.once('exit', () => ok());
    n.child.kill('SIGTERM');
  });
}

async function status(n: Running): Promise<Status> {
  return (await (await fetch(`${n.http}/status`, { signal: AbortSignal.timeout(5000) })).json()) as Status;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen within ${ms} ms ${last ? `(${(last as Error).message})` : ''}`);
}

describe.skipIf(anvilBinary() === undefined)('peer discovery through the registry', () => {
  let anvil: Anvil;
  const nodes: Running[] = [];
  beforeAll(async () => {
    anvil = await startAnvil();
  }, 30_000);
  afterAll(async () => {
    await Promise.all(nodes.map(stopNode));
    await anvil?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds and connects the members from rpcUrl and registryAddress alone', async () => {
    const conn = await connectChain(anvil.url, { pollingInterval: 50 });
    const keys = ['a', 'b', 'c', 'd'].map((name) => ({ name, privateKey: keccak256(toHex(`dso discovery ${name}`)) }));
    const ids = keys.map((k) => identityFromKey(k.privateKey));
    const owner = identityFromKey(keccak256(toHex('dso discovery owner')));
    for (const id of [owner, ids[0], ids[1]]) await conn.fund(id.address, parseEther('10'));
    const registry = await RegistryClient.deploy(conn, owner, { members: ids.slice(0, 3).map((i) => i.address), seal: true });

    keys.forEach((k, i) => {
      const dataDir = path.join(dir, k.name);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(path.join(dataDir, 'node.key'), JSON.stringify({ version: 1, privateKey: k.privateKey, address: ids[i].address }), {
        mode: 0o600,
      });
      const config = {
        dataDir,
        network: 'dso-discovery',
        rpcUrl: anvil.url,
        registryAddress: registry.address,
        http: { host: '127.0.0.1', port: base + i },
      };
      writeFileSync(path.join(dataDir, 'dso.config.json'), JSON.stringify(config));
      nodes.push(startNode(k.name, `http://127.0.0.1:${base + i}`, path.join(dataDir, 'dso.config.json')));
    });

    const [a, b, c, d] = nodes;
    // a and b announce where they listen; the registry then holds their own addresses.
    for (const n of [a, b]) {
      const s = await until(`${n.name} announcing`, 90_000, async () => {
        const st = await status(n);
        return st.p2p.discovery.announced ? st : undefined;
      });
      expect(s.p2p.discovery.announced).toBe(s.p2p.addresses.join(' '));
    }
    const announced = await registry.memberEndpoints();
    expect(announced.map((m) => m.account).sort()).toEqual([ids[0].address, ids[1].address].sort());

    // Everyone reaches a and b; c and d, who announced nothing, know a and b only.
    const want: Record<string, number> = { a: 3, b: 3, c: 2, d: 2 };
    for (const n of nodes)
      await until(`${n.name} reaching ${want[n.name]} topic peers`, 90_000, async () =>
        (await status(n)).p2p.topicPeers === want[n.name] ? true : undefined,
      );

    // c is a member without funds: one line says so, and the node goes on.
    const sc = await status(c);
    expect(sc.p2p.discovery).toMatchObject({ announced: null, discovered: 2 });
    expect(sc.p2p.discovery.lastError).toMatch(/^INSUFFICIENT_FUNDS: /u);
    expect(c.log.split('\n').filter((l) => l.includes('discovery:'))).toHaveLength(1);
    const sd = await status(d);
    expect(sd.p2p.discovery).toMatchObject({ announced: null, discovered: 2, lastError: null });
    for (const n of nodes) expect(n.child.exitCode).toBeNull();

    // b restarts (same data dir, so the same port and peer id): the others dial it again with backoff.
    await stopNode(b);
    await until('a losing b', 30_000, async () => ((await status(a)).p2p.topicPeers === 2 ? true : undefined));
    nodes[1] = startNode(b.name, b.http, b.config);
    for (const n of nodes)
      await until(`${n.name} reconnected`, 90_000, async () => ((await status(n)).p2p.topicPeers === want[n.name] ? true : undefined));
    await conn.close();
  }, 240_000);
});
