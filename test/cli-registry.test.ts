/**
 * dso registry as a newcomer uses it: real CLI processes against anvil,
 * acting as node key files. Deploy, add a member as the owner, list members
 * and their endpoints, read the status, propose and vote a removal, finalize
 * a batch past its deadline; and the faults each end in one line with a
 * typed code and exit status 2: an unreachable chain, an address without a
 * registry, an account without funds, a missing key, a vote still open.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type Hex, keccak256, parseEther, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ChainConnection, connectChain } from '../src/network/chain.js';
import { identityFromKey } from '../src/network/identity.js';
import { RegistryClient } from '../src/network/registry.js';
import { type Anvil, anvilBinary, startAnvil } from './helpers/anvil.js';
import { root } from './helpers/dev-chain.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-cli-registry-'));

/** A node key file as dso node writes it (0600), for a deterministic key. */
function keyFile(name: string) {
  const privateKey = keccak256(toHex(`dso cli registry ${name}`));
  const id = identityFromKey(privateKey);
  const file = path.join(dir, `${name}.key`);
  writeFileSync(file, JSON.stringify({ version: 1, privateKey, address: id.address }), { mode: 0o600 });
  return { file, id, address: id.address };
}

/** One dso process; resolves with its exit status and output (never rejects). */
function dso(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'registry', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DSO_RPC_URL: '', DSO_REGISTRY_ADDRESS: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A refusal: exit 2, stdout empty, and stderr exactly one line `dso: CODE: ...`. */
function refused(r: { status: number | null; stdout: string; stderr: string }, code: string): string {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^dso: ${code}: `, 'u'));
  return lines[0];
}

describe.skipIf(anvilBinary() === undefined)('dso registry against anvil', () => {
  let anvil: Anvil;
  let conn: ChainConnection;
  const owner = keyFile('owner');
  const [a, b, c] = ['a', 'b', 'c'].map(keyFile);
  const poor = keyFile('poor');
  beforeAll(async () => {
    anvil = await startAnvil();
    conn = await connectChain(anvil.url, { pollingInterval: 20 });
    for (const k of [owner, a, b, c]) await conn.fund(k.address, parseEther('10'));
  }, 30_000);
  afterAll(async () => {
    await anvil?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys, adds, lists, proposes and votes a removal, finalizes a batch past its deadline', async () => {
    const rpc = ['--rpc-url', anvil.url];
    const deployed = await dso(
      'deploy',
      ...rpc,
      '--key',
      owner.file,
      '--members',
      `${a.address},${b.address}`,
      '--voting-period',
      '60',
      '--json',
    );
    expect(deployed.status, deployed.stderr).toBe(0);
    const { registry } = JSON.parse(deployed.stdout) as { registry: Hex };
    const on = [...rpc, '--registry', registry];

    const added = await dso('add-member', c.address, ...on, '--key', owner.file, '--json');
    expect(added.status, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({ added: c.address });

    // c announces an endpoint; b writes junk, which the parsed read leaves out.
    const peer = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
    const endpoint = `/ip4/127.0.0.1/tcp/4101/p2p/${peer}`;
    await RegistryClient.at(conn, c.id, registry).setEndpoint(endpoint);
    await RegistryClient.at(conn, b.id, registry).setEndpoint('/ip4/127.0.0.1/tcp/99999/p2p/nope not-an-address');
    const listed = await dso('members', ...on, '--json');
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([
        { account: a.address, endpoint: '' },
        { account: c.address, endpoint },
      ]),
    );
    const table = await dso('members', ...on);
    expect(table.stdout).toMatch(new RegExp(`${c.address}\\s+${endpoint}`, 'u'));
    expect(table.stdout).toContain('3 members');
    expect(await RegistryClient.at(conn, a.id, registry).memberEndpoints()).toEqual([
      { account: c.address, addresses: [endpoint], peers: [peer] },
    ]);

    const status = await dso('status', ...on, '--key', a.file, '--json');
    expect(status.status, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      address: registry,
      owner: owner.address,
      bootstrapSealed: false,
      memberCount: 3,
      votingPeriod: 60,
      you: { account: a.address, member: true },
    });
    expect((await dso('status', ...on)).stdout).toMatch(/members\s+3/u);

    // a proposes removing c (its yes), b's yes makes 2 of 3: accepted, and c's endpoint goes with it.
    const proposal = await dso('remove-member', c.address, ...on, '--key', a.file, '--json');
    expect(proposal.status, proposal.stderr).toBe(0);
    const p = (JSON.parse(proposal.stdout) as { proposal: { id: string; status: string; kind: string; yes: number } }).proposal;
    expect(p).toMatchObject({ kind: 'removeMember', status: 'pending', yes: 1 });
    const voted = await dso('vote', p.id, 'yes', ...on, '--key', b.file);
    expect(voted.status, voted.stderr).toBe(0);
    expect(voted.stdout).toContain(`proposal ${p.id}: voted yes, now accepted`);
    const after = JSON.parse((await dso('members', ...on, '--json')).stdout) as Array<{ account: Hex }>;
    expect(after.map((m) => m.account).sort()).toEqual([a.address, b.address].sort());
    expect(await RegistryClient.at(conn, a.id, registry).endpoint(c.address)).toBe('');

    // A batch of a's: with two members its yes alone carries only at the deadline.
    const batch = await RegistryClient.at(conn, a.id, registry).submitBatch(root('cli finalize'), 'bafycli', 3);
    const early = refused(await dso('finalize', String(batch), ...on, '--key', b.file), 'CONTRACT_REVERTED');
    expect(early).toContain('VotingOpen');
    await conn.advanceTime(61);
    const finalized = await dso('finalize', String(batch), ...on, '--key', b.file, '--json');
    expect(finalized.status, finalized.stderr).toBe(0);
    expect(JSON.parse(finalized.stdout)).toEqual([{ id: String(batch), status: 'accepted' }]);
    expect((await dso('status', ...on, '--json')).stdout).toContain('"acceptedCount":"1"');

    // c, no longer a member, cannot propose.
    expect(refused(await dso('add-member', owner.address, ...on, '--key', c.file), 'CONTRACT_REVERTED')).toContain('not a member');
  }, 180_000);

  it('turns bad input into one line with a typed code and exit status 2', async () => {
    const rpc = ['--rpc-url', anvil.url];
    // Nothing listens on port 9 of 127.0.0.1.
    refused(await dso('status', '--rpc-url', 'http://127.0.0.1:9', '--registry', owner.address), 'CHAIN_ERROR');
    // An account, not a contract.
    expect(refused(await dso('members', ...rpc, '--registry', owner.address), 'NOT_A_REGISTRY')).toContain('no contract at');
    refused(await dso('deploy', ...rpc, '--key', poor.file), 'INSUFFICIENT_FUNDS');
    refused(await dso('deploy', ...rpc, '--key', path.join(dir, 'missing.key')), 'INVALID_KEY_FILE');
    refused(await dso('deploy', ...rpc), 'INVALID_KEY_FILE');
    const usage = await dso('vote', 'x', 'yes', ...rpc, '--registry', owner.address, '--key', a.file);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^dso: command-argument value 'x' is invalid for argument 'id'/u);
  }, 120_000);
});
