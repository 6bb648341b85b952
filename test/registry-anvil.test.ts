/**
 * The registry on anvil (a real JSON-RPC chain from npm): voters in other
 * processes, transactions that race in one block (automine off), and the
 * names of the errors that lose.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { type Abi, createWalletClient, keccak256, parseGwei, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ChainConnection, connectChain } from '../src/network/chain.js';
import type { NodeIdentity } from '../src/network/identity.js';
import { RegistryClient } from '../src/network/registry.js';
import { type Anvil, anvilBinary, startAnvil } from './helpers/anvil.js';
import { type DevChain, devChain, fundedAccounts, root } from './helpers/dev-chain.js';
import { revertReason } from './helpers/errors.js';

/** Waits until `n` transactions wait in the pool (automine off). */
async function pending(chain: DevChain, n: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await chain.getBlock({ blockTag: 'pending' })).transactions.length >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never saw ${n} pending transactions`);
}

describe.skipIf(anvilBinary() === undefined)('ExperienceRegistry on anvil', () => {
  let anvil: Anvil;
  let conn: ChainConnection;
  let chain: DevChain;
  beforeAll(async () => {
    anvil = await startAnvil();
    conn = await connectChain(anvil.url, { pollingInterval: 20 });
    chain = devChain(conn);
  }, 30_000);
  afterAll(async () => {
    await chain?.setAutomine(true).catch(() => undefined);
    await anvil?.stop();
  });

  it('accepts a batch voted by members in other processes', async () => {
    const label = 'dso registry anvil processes';
    const [owner, ...m] = await fundedAccounts(conn, label, 6);
    expect(conn.chain.id).toBe(31338);
    const reg = await RegistryClient.deploy(conn, owner, { members: m.map((x) => x.address), votingPeriod: 3600 });
    const batch = await RegistryClient.at(conn, m[0], reg.address).submitBatch(root('anvil'), 'bafyreianvil', 7);
    // Three processes, three accounts, voting at once: with the submitter's yes, 4 of 5 accept whoever comes last.
    const votes = [1, 2, 3].map(
      (i) =>
        new Promise<string>((resolve) => {
          const key = keccak256(toHex(`${label} ${i + 1}`));
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', 'test/helpers/registry-child.ts', anvil.url, reg.address, key, String(batch)],
            {
              stdio: ['ignore', 'pipe', 'inherit'],
            },
          );
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.on('exit', () => resolve(out.trim()));
        }),
    );
    for (const v of votes) expect(await v).toBe('voted');
    expect(await reg.getBatch(batch)).toMatchObject({ status: 'accepted', yes: 4 });
    expect((await reg.acceptedBatches(0, 5))[0].cid).toBe('bafyreianvil');
  }, 120_000);

  it('names the error of a vote that lost a race in its block: to another vote, or to the clock', async () => {
    const [owner, a, b, c] = await fundedAccounts(conn, 'dso registry anvil race', 4);
    const reg = await RegistryClient.deploy(conn, owner, { members: [a, b, c].map((x) => x.address), votingPeriod: 600 });
    const as = (x: NodeIdentity) => RegistryClient.at(conn, x, reg.address);
    const id = await as(a).submitBatch(root('race'), 'bafyrace', 1);
    const late = await as(a).submitBatch(root('late'), 'bafylate', 1);
    const { abi } = JSON.parse(readFileSync('contracts/build/ExperienceRegistry.json', 'utf8')) as { abi: Abi };
    await chain.setAutomine(false);
    try {
      // c's vote passes its estimate and waits in the pool; b's vote, paying a higher tip, is mined before it.
      const losing = as(c).vote(id, true);
      await pending(chain, 1);
      await createWalletClient({ account: b.account, chain: conn.chain, transport: conn.transport }).writeContract({
        address: reg.address,
        abi,
        functionName: 'vote',
        args: [id, true],
        gas: 500_000n,
        maxFeePerGas: parseGwei('200'),
        maxPriorityFeePerGas: parseGwei('100'),
      });
      await pending(chain, 2);
      await chain.mine({ blocks: 1 });
      expect(await revertReason(losing)).toBe('CONTRACT_REVERTED:VotingClosed');
      expect(await reg.getBatch(id)).toMatchObject({ status: 'accepted', yes: 2, no: 0 });

      // c's vote passes its estimate, but its block comes after the deadline.
      const tooLate = as(c).vote(late, false);
      await pending(chain, 1);
      await chain.setNextBlockTimestamp({ timestamp: BigInt((await reg.getBatch(late)).deadline + 1) });
      await chain.mine({ blocks: 1 });
      expect(await revertReason(tooLate)).toBe('CONTRACT_REVERTED:VotingClosed');
    } finally {
      await chain.setAutomine(true);
    }
    expect(await reg.getBatch(late)).toMatchObject({ status: 'pending', yes: 1, no: 0 });
  });

  it('gives each of two submissions mined in one block its own id', async () => {
    const [owner, a, b] = await fundedAccounts(conn, 'dso registry anvil same block', 3);
    const reg = await RegistryClient.deploy(conn, owner, { members: [a, b].map((x) => x.address) });
    await chain.setAutomine(false);
    let ids: bigint[];
    try {
      const sent = [
        RegistryClient.at(conn, a, reg.address).submitBatch(root('one'), 'bafyone', 1),
        RegistryClient.at(conn, b, reg.address).submitBatch(root('two'), 'bafytwo', 1),
        RegistryClient.at(conn, a, reg.address).submitBatch(root('three'), 'bafythree', 1),
      ];
      await pending(chain, 3);
      await chain.mine({ blocks: 1 });
      ids = await Promise.all(sent);
    } finally {
      await chain.setAutomine(true);
    }
    expect(new Set(ids).size).toBe(3);
    expect(await Promise.all(ids.map(async (id) => (await reg.getBatch(id)).cid))).toEqual(['bafyone', 'bafytwo', 'bafythree']);
  });
});
