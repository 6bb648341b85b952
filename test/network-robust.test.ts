/**
 * A DSO network of real processes among hostile and unlucky members: `dso
 * network up` (anvil, the registry, `dso node` processes on 127.0.0.1), one
 * member's key taken over by a Byzantine process (flipped codes, spam, no on
 * everything), a node killed with SIGKILL during a sync, a node that is not a
 * member, and a network of two members that decides with one of them away.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

import { keccak256, toHex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';

import type { NetworkFile, NodeEntry } from '../src/cli/network/layout.js';
import { alive } from '../src/cli/network/processes.js';
import { anvilBinary } from '../src/network/anvil.js';
import { connectChain } from '../src/network/chain.js';
import { identityFromKey } from '../src/network/identity.js';
import { RegistryClient } from '../src/network/registry.js';
import { call, dso, texts, until } from './helpers/network-cli.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
// Ports of their own, away from test/network-up.test.ts's range: base.. for the first network and the outsider, base+20.. for the second.
const base = 40_000 + (process.pid % 2_000) * 10;

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) dso('network', 'down', '--dir', d);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await new Promise((r) => setTimeout(r, 100));
});

function up(dir: string, nodes: number, offset: number): NetworkFile {
  const r = dso(
    ...['network', 'up', '--nodes', String(nodes), '--dir', dir],
    ...['--http-port', String(base + offset), '--p2p-port', String(base + offset + 5), '--chain-port', String(base + offset + 9)],
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(path.join(dir, 'network.json'), 'utf8')) as NetworkFile;
}

function newDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'dso-robust-'));
  dirs.push(d);
  return d;
}

async function stop(pid: number | null, signal: NodeJS.Signals): Promise<void> {
  if (pid === null) return;
  process.kill(pid, signal);
  await until(`process ${pid} to exit`, () => !alive(pid));
}

/** Starts a process and returns it with its first line of output, parsed as JSON. */
async function startChild(args: string[]): Promise<{ child: ChildProcess; first: Record<string, unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${stderr}`)));
  });
  return { child, first: JSON.parse(line) as Record<string, unknown> };
}

const sync = async (n: NodeEntry) => {
  const r = await call(n, '/sync');
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json as { votes: { batchId: string; approve: boolean; reason?: string }[]; merged: number; failures: unknown[] };
};

async function registry(net: NetworkFile): Promise<RegistryClient> {
  return RegistryClient.at(await connectChain(net.rpcUrl), identityFromKey(keccak256(toHex('reader'))), net.registryAddress);
}

const peersOf = async (n: NodeEntry) => ((await call(n, '/status')).json.p2p as { topicPeers: number }).topicPeers;

describe.skipIf(anvilBinary() === undefined)('a network of dso node processes among hostile and unlucky members', () => {
  it('merges none of a Byzantine member, loses nothing to SIGKILL during a sync, and lets a non-member fetch', async () => {
    const dir = newDir();
    let net = up(dir, 4, 0);
    const [a, b, c, d] = net.nodes;
    const reg = await registry(net);

    // Node 4 turns hostile: its process stops, and a Byzantine one takes its key and its p2p address.
    await stop(d.pid, 'SIGTERM');
    const byz = await startChild([
      'test/helpers/byzantine-member.ts',
      path.join(d.dataDir, 'node.key'),
      net.rpcUrl,
      net.registryAddress,
      'dso-local',
      d.p2p.split('/p2p/')[0],
    ]);
    const hostile = byz.first as { flipped: string; spam: string; texts: string[] };

    const first = 'When a network starts, check that every node answers its health endpoint.';
    expect((await call(a, '/experiences', { experiences: [{ text: first, domain: 'ops', confidence: 0.9 }] })).status).toBe(200);
    const shared = (await call(a, '/sync')).json.submitted as { batchId: string };
    // The honest nodes judge the hostile batches by their content, so they wait until they reach the Byzantine peer.
    for (const n of [b, c]) await until(`${n.name} to reach every peer`, async () => (await peersOf(n)) >= 3);
    const reports = [];
    for (const n of [b, c, b, c]) reports.push(await sync(n));
    const reasons = reports.flatMap((r) => r.votes.filter((v) => !v.approve).map((v) => v.reason ?? ''));
    expect(reasons.some((r) => /code differs from its text's in 100% of bits/u.test(r))).toBe(true);
    expect(reasons.some((r) => /near-duplicates/u.test(r))).toBe(true);
    expect((await reg.getBatch(BigInt(hostile.flipped))).status).toBe('rejected');
    expect((await reg.getBatch(BigInt(hostile.spam))).status).toBe('rejected');
    // The Byzantine no did not stop the honest batch: three of four members said yes.
    expect((await reg.getBatch(BigInt(shared.batchId))).status).toBe('accepted');
    for (const n of [a, b, c]) {
      const held = await texts(n);
      expect(held).toContain(first);
      expect(held.filter((t) => hostile.texts.includes(t))).toEqual([]);
    }
    byz.child.kill('SIGTERM');
    await until('the Byzantine process to exit', () => byz.child.exitCode !== null || byz.child.signalCode !== null);

    // SIGKILL while node 2 syncs a new batch; `network up` restarts it (and node 4, honest again) with their data.
    const second = 'When a node is killed mid-sync, restart it and sync again before trusting its library.';
    await call(a, '/experiences', { experiences: [{ text: second, domain: 'ops', confidence: 0.9 }] });
    expect((await call(a, '/sync')).json.submitted).toMatchObject({ records: 1 });
    const interrupted = call(b, '/sync').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 150));
    await stop(b.pid, 'SIGKILL');
    await interrupted;
    net = up(dir, 4, 0);
    const b2 = net.nodes[1];
    await until('node-2 to reach node-1', async () => (await peersOf(b2)) >= 1);
    for (const n of [b2, c, b2]) await sync(n);
    for (const n of [b2, c]) expect(await texts(n)).toEqual(expect.arrayContaining([first, second]));

    // A node whose account is not a member still fetches and merges what the network accepted, and says why it does no more.
    const outsiderDir = path.join(dir, 'outsider');
    const outsider = { http: `http://127.0.0.1:${base + 15}`, tokenFile: path.join(outsiderDir, 'http.token') };
    const proc = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'src/cli/main.ts', 'node', '--data-dir', outsiderDir, '--port', String(base + 15)],
        ...['--rpc-url', net.rpcUrl, '--registry-address', net.registryAddress, '--network', 'dso-local', '--peers', a.p2p],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(proc);
    let log = '';
    proc.stderr?.on('data', (x: Buffer) => (log += x.toString()));
    await until('the outsider to answer', async () => {
      if (proc.exitCode !== null) throw new Error(`the outsider exited ${proc.exitCode}: ${log}`);
      return (await fetch(`${outsider.http}/health`).catch(() => undefined))?.ok === true;
    });
    await until('the outsider to reach node-1', async () => (await peersOf(outsider as NodeEntry)) >= 1);
    const report = (await call(outsider, '/sync')).json as { standing: { member: boolean; advice: string }; merged: number };
    expect(report.standing.member).toBe(false);
    expect(report.standing.advice).toMatch(/not a member.*add-member/u);
    expect(await texts(outsider)).toEqual(expect.arrayContaining([first, second]));
    const status = (await call(outsider, '/status')).json as { sync: { last: { standing: { member: boolean } } } };
    expect(status.sync.last.standing.member).toBe(false);
    proc.kill('SIGTERM');
    await until('the outsider to exit', () => proc.exitCode !== null || proc.signalCode !== null);
    expect(proc.exitCode).toBe(0);
  }, 420_000);

  it('decides every batch of a two-member network: at once when both vote, at the deadline when one is away', async () => {
    const dir = newDir();
    let net = up(dir, 2, 20);
    const [a, b] = net.nodes;
    await stop(b.pid, 'SIGTERM');
    const alone = 'When a peer is away, let the voting period decide for it.';
    await call(a, '/experiences', { experiences: [{ text: alone, domain: 'ops', confidence: 0.9 }] });
    const { batchId } = (await call(a, '/sync')).json.submitted as { batchId: string };
    const reg = await registry(net);
    expect((await reg.getBatch(BigInt(batchId))).status).toBe('pending');
    // Past the voting period by the chain's clock: the next sync of any node finalizes it (one yes of two: quorum, all in favour).
    for (const [method, params] of [
      ['evm_increaseTime', [601]],
      ['evm_mine', []],
    ] as const) {
      await fetch(net.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      });
    }
    const report = (await call(a, '/sync')).json as { finalized: { batchId: string; status: string }[] };
    expect(report.finalized).toEqual([{ batchId, status: 'accepted' }]);
    net = up(dir, 2, 20);
    await sync(net.nodes[1]);
    expect(await texts(net.nodes[1])).toContain(alone);

    // Both present: the submission and the other's yes decide at once.
    const both = 'When both members are present, their two votes decide at once.';
    await call(net.nodes[1], '/experiences', { experiences: [{ text: both, domain: 'ops', confidence: 0.9 }] });
    const sent = (await call(net.nodes[1], '/sync')).json.submitted as { batchId: string };
    await until('node-1 to reach node-2', async () => (await peersOf(net.nodes[0])) >= 1);
    const voted = await sync(net.nodes[0]);
    expect(voted.votes).toEqual([{ batchId: sent.batchId, approve: true }]);
    expect(voted.merged).toBe(1);
    expect((await reg.getBatch(BigInt(sent.batchId))).status).toBe('accepted');

    // A chain that does not answer and an address that holds no registry: one line naming the cause, exit 2.
    const dead = dso('node', '--data-dir', path.join(dir, 'x'), '--port', String(base + 16), '--rpc-url', 'http://127.0.0.1:9');
    expect([dead.status, dead.stderr.trim().split('\n')]).toEqual([
      2,
      [expect.stringMatching(/^dso: CHAIN_ERROR: cannot reach the chain at/u)],
    ]);
    const wrong = dso(
      ...['node', '--data-dir', path.join(dir, 'y'), '--port', String(base + 17)],
      ...['--rpc-url', net.rpcUrl, '--registry-address', '0x00000000000000000000000000000000000000aa'],
    );
    expect([wrong.status, wrong.stderr.trim().split('\n')]).toEqual([
      2,
      [expect.stringMatching(/^dso: NOT_A_REGISTRY: no contract at 0x0+aa/iu)],
    ]);
  }, 300_000);
});
