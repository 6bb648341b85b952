/**
 * RegistryCursor on both chains: the in-process EVM (EDR) and anvil. It
 * catches up with paged getLogs (counted on the wire), says what needs this
 * node's vote or a finalization by the chain's clock, holds events back until
 * they have their confirmations, and survives rollbacks (evm_snapshot /
 * evm_revert): it goes back to the last block the chain still has, reports
 * what it undid, and lets the node vote on a new batch that took an old id.
 */
import { createPublicClient, custom, type EIP1193Parameters, type EIP1193RequestFn } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ChainConnection, connectChain, startInProcessChain } from '../src/network/chain.js';
import { RegistryClient } from '../src/network/registry.js';
import { RegistryCursor } from '../src/network/registry-cursor.js';
import { type Anvil, anvilBinary, startAnvil } from './helpers/anvil.js';
import { devChain, fundedAccounts, root } from './helpers/dev-chain.js';

/** The same connection, counting the JSON-RPC methods sent through it. */
function counted(conn: ChainConnection): { conn: ChainConnection; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const inner = createPublicClient({ chain: conn.chain, transport: conn.transport });
  const request = ((args: EIP1193Parameters) => {
    calls.set(args.method, (calls.get(args.method) ?? 0) + 1);
    return inner.request(args as never);
  }) as EIP1193RequestFn;
  return { conn: { ...conn, transport: custom({ request }, { retryCount: 0 }) }, calls };
}

const chains: [string, () => Promise<{ conn: ChainConnection; stop(): Promise<void> }>][] = [
  [
    'in-process EVM',
    async () => {
      const conn = await startInProcessChain();
      return { conn, stop: () => conn.close() };
    },
  ],
];
if (anvilBinary() !== undefined)
  chains.push([
    'anvil',
    async () => {
      const anvil: Anvil = await startAnvil();
      return { conn: await connectChain(anvil.url, { pollingInterval: 20 }), stop: () => anvil.stop() };
    },
  ]);

describe.each(chains)('RegistryCursor on the %s', (_name, start) => {
  let conn: ChainConnection;
  let running: { conn: ChainConnection; stop(): Promise<void> } | undefined;
  beforeAll(async () => {
    running = await start();
    conn = running.conn;
  }, 30_000);
  afterAll(async () => running?.stop());

  it('catches up from the deployment with a getLogs per page, not a call per batch', async () => {
    const [owner, a] = await fundedAccounts(conn, 'dso cursor catch-up', 2);
    const reg = await RegistryClient.deploy(conn, owner, { members: [a.address] });
    const as = RegistryClient.at(conn, a, reg.address);
    for (let i = 0; i < 30; i++) await as.submitBatch(root(`catch ${i}`), `bafy${i}`, 1 + i); // one member: accepted at once
    await devChain(conn).mine({ blocks: 20 });
    const { head } = await reg.status();
    const deployedAt = await reg.deployedAt();
    const wire = counted(conn);
    const cursor = new RegistryCursor(RegistryClient.at(wire.conn, a, reg.address), { pageBlocks: 8 });
    const got = await cursor.sync();
    const pages = Math.ceil(Number(head.number - deployedAt + 1n) / 8);
    expect(wire.calls.get('eth_getLogs')).toBe(pages);
    // deployedAt, and nothing per batch: what was accepted comes from the submissions' own events.
    expect(wire.calls.get('eth_call')).toBe(1);
    expect(got.accepted.map((b) => b.cid)).toEqual(Array.from({ length: 30 }, (_, i) => `bafy${i}`));
    expect(got.accepted[29]).toMatchObject({ count: 30, submitter: a.address, root: root('catch 29') });
    expect(got.events.filter((e) => e.type === 'MemberAdded')).toHaveLength(1);
    expect(got.block).toBe(head.number);
    expect(cursor.openBatches()).toEqual([]);
    // Nothing new since.
    expect((await cursor.sync()).events).toEqual([]);
  });

  it('says what needs this node: votes before the chain-time deadline, finalizations after', async () => {
    const [owner, a, b, c] = await fundedAccounts(conn, 'dso cursor duties', 4);
    const reg = await RegistryClient.deploy(conn, owner, { members: [a, b, c].map((x) => x.address), votingPeriod: 120 });
    const as = (x: typeof a) => RegistryClient.at(conn, x, reg.address);
    const cursor = new RegistryCursor(as(b));
    const x = await as(a).submitBatch(root('x'), 'bafyx', 1);
    const y = await as(a).submitBatch(root('y'), 'bafyy', 1);
    const p = await as(a).proposeParameter('votingPeriod', 300);
    await cursor.sync();
    const due = await cursor.needingVote();
    expect(due.batches.map((d) => d.id)).toEqual([x, y]);
    expect(due.proposals.map((d) => d.id)).toEqual([p]);
    // The submitter itself has nothing to vote on.
    const forA = new RegistryCursor(as(a));
    await forA.sync();
    expect(await forA.needingVote()).toEqual({ batches: [], proposals: [] });
    await as(b).vote(x, true);
    expect((await cursor.sync()).accepted.map((d) => d.id)).toEqual([x]);
    expect((await cursor.needingVote()).batches.map((d) => d.id)).toEqual([y]);
    expect((await cursor.needingFinalization()).batches).toEqual([]);
    await conn.advanceTime(121);
    expect(await cursor.needingVote()).toEqual({ batches: [], proposals: [] });
    const late = await cursor.needingFinalization();
    expect(late.batches.map((d) => d.id)).toEqual([y]);
    expect(late.proposals.map((d) => d.id)).toEqual([p]);
    // The submitter's yes alone is under the quorum (2 of 3): rejected, and the proposal expired.
    expect(await as(c).finalize(y)).toBe('rejected');
    expect(await as(c).finalizeProposal(p)).toBe('expired');
    const after = await cursor.sync();
    expect(after.accepted).toEqual([]);
    expect(after.events.map((e) => e.type)).toEqual(['BatchRejected', 'ProposalExpired']);
    expect(await cursor.needingFinalization()).toEqual({ batches: [], proposals: [] });
  });

  it('holds events back until they have their confirmations', async () => {
    const [owner, a] = await fundedAccounts(conn, 'dso cursor confirmations', 2);
    const reg = await RegistryClient.deploy(conn, owner, { members: [a.address] });
    const cursor = new RegistryCursor(reg, { confirmations: 2 });
    await devChain(conn).mine({ blocks: 2 });
    await cursor.sync();
    const id = await RegistryClient.at(conn, a, reg.address).submitBatch(root('conf'), 'bafyconf', 1);
    expect((await cursor.sync()).accepted).toEqual([]);
    await devChain(conn).mine({ blocks: 1 });
    expect((await cursor.sync()).accepted).toEqual([]);
    await devChain(conn).mine({ blocks: 1 });
    expect((await cursor.sync()).accepted.map((b) => b.id)).toEqual([id]);
  });

  it('rewinds to the last common block after a rollback, and votes on the new batch that took the old id', async () => {
    const [owner, a, b, c] = await fundedAccounts(conn, 'dso cursor rollback', 4);
    const reg = await RegistryClient.deploy(conn, owner, { members: [a, b, c].map((x) => x.address), votingPeriod: 600 });
    const as = (x: typeof a) => RegistryClient.at(conn, x, reg.address);
    const cursor = new RegistryCursor(as(b));
    const chain = devChain(conn);
    await cursor.sync();
    const common = cursor.position;
    const snapshot = await chain.snapshot();
    const gone = await as(a).submitBatch(root('gone'), 'bafygone', 1);
    await cursor.sync();
    expect((await cursor.needingVote()).batches.map((d) => d.cid)).toEqual(['bafygone']);
    await as(b).vote(gone, true);
    expect((await cursor.sync()).accepted.map((d) => d.cid)).toEqual(['bafygone']);

    await chain.revert({ id: snapshot });
    const again = await as(c).submitBatch(root('new'), 'bafynew', 1);
    expect(again).toBe(gone); // the same id, another batch
    const after = await cursor.sync();
    expect(after.rolledBackTo).toBe(common?.number);
    expect(after.restarted).toBe(false);
    expect(after.undone.map((e) => e.type)).toEqual(['BatchAccepted', 'BatchSubmitted']);
    expect(after.events.map((e) => (e.type === 'BatchSubmitted' ? e.cid : e.type))).toEqual(['bafynew']);
    // b's vote went with the old chain: it is due again, on the new batch.
    expect((await cursor.needingVote()).batches.map((d) => d.cid)).toEqual(['bafynew']);
    await as(b).vote(again, true);
    expect((await cursor.sync()).accepted.map((d) => d.cid)).toEqual(['bafynew']);
  });

  it('starts again from the deployment after a rollback deeper than it keeps', async () => {
    const [owner, a] = await fundedAccounts(conn, 'dso cursor deep rollback', 2);
    const reg = await RegistryClient.deploy(conn, owner, { members: [a.address, owner.address], votingPeriod: 600 });
    const cursor = new RegistryCursor(reg, { maxRollback: 2 });
    const chain = devChain(conn);
    const snapshot = await chain.snapshot();
    await RegistryClient.at(conn, a, reg.address).submitBatch(root('deep'), 'bafydeep', 1);
    await chain.mine({ blocks: 6 });
    await cursor.sync();
    expect(cursor.openBatches().map((b) => b.cid)).toEqual(['bafydeep']);
    await chain.revert({ id: snapshot });
    await RegistryClient.at(conn, a, reg.address).submitBatch(root('other'), 'bafyother', 1);
    const after = await cursor.sync();
    expect(after.restarted).toBe(true);
    expect(cursor.openBatches().map((b) => b.cid)).toEqual(['bafyother']);
    expect(after.events.map((e) => e.type)).toContain('MemberAdded'); // read again from the deployment
  });
});
