import { spawn } from 'node:child_process';

import { keccak256, parseEther, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ChainConnection, connectChain, startInProcessChain } from '../src/network/chain.js';
import { identityFromKey, type NodeIdentity } from '../src/network/identity.js';
import { RegistryClient } from '../src/network/registry.js';
import { type Anvil, anvilBinary, startAnvil } from './helpers/anvil.js';
import { revertReason } from './helpers/errors.js';

const keys = Array.from({ length: 8 }, (_, i) => keccak256(toHex(`dso registry test key ${i}`)));
const ids = keys.map((k) => identityFromKey(k));
const [owner, submitter, outsider, ...members] = ids; // 5 members

const root = (s: string) => keccak256(toHex(s));

describe('ExperienceRegistry on the in-process EVM (EDR)', () => {
  let conn: ChainConnection;
  let reg: RegistryClient;
  const as = (who: NodeIdentity) => RegistryClient.at(conn, who, reg.address);

  beforeAll(async () => {
    conn = await startInProcessChain();
    for (const id of ids) await conn.fund(id.address, parseEther('10'));
    reg = await RegistryClient.deploy(conn, owner, { quorum: 3, votingPeriod: 3600, members: members.map((m) => m.address) });
  }, 60_000);
  afterAll(async () => conn?.close());

  it('registers a batch once, from its submitter, and refuses empty ones', async () => {
    const id = await as(submitter).submitBatch(root('a'), 'bafyreia', 12);
    expect(id).toBe(0n);
    const b = await reg.getBatch(0n);
    expect(b).toMatchObject({
      root: root('a'),
      cid: 'bafyreia',
      count: 12,
      submitter: submitter.address,
      status: 'pending',
      yes: 0,
      no: 0,
    });
    expect(b.deadline - b.submittedAt).toBe(3600);
    expect(await revertReason(as(outsider).submitBatch(root('a'), 'x', 1))).toBe('CONTRACT_REVERTED:AlreadySubmitted');
    expect(await revertReason(as(submitter).submitBatch(root('e'), 'x', 0))).toBe('CONTRACT_REVERTED:EmptyBatch');
    expect(await reg.batchIdOf(root('a'))).toBe(0n);
    expect(await reg.batchIdOf(root('nope'))).toBeUndefined();
  });

  it('needs a quorum and 2/3 approval: one vote per member, members only', async () => {
    expect(await revertReason(as(outsider).vote(0n, true))).toBe('CONTRACT_REVERTED:NotMember');
    await as(members[0]).vote(0n, true);
    expect(await revertReason(as(members[0]).vote(0n, true))).toBe('CONTRACT_REVERTED:AlreadyVoted');
    await as(members[1]).vote(0n, true);
    await as(members[2]).vote(0n, true);
    // 3 of 5 yes: a quorum, but 2 more no votes could still make it 3/5 < 2/3.
    expect((await reg.getBatch(0n)).status).toBe('pending');
    await as(members[3]).vote(0n, true);
    expect((await reg.getBatch(0n)).status).toBe('accepted');
    expect(await revertReason(as(members[4]).vote(0n, false))).toBe('CONTRACT_REVERTED:VotingClosed');
    expect(await revertReason(reg.vote(99n, true))).toBe('CONTRACT_REVERTED:NotMember');
    expect(await revertReason(as(members[0]).vote(99n, true))).toBe('CONTRACT_REVERTED:UnknownBatch');
  });

  it('closes at the deadline: accepted with 2/3 of a quorum, rejected without', async () => {
    const passing = await as(submitter).submitBatch(root('b'), 'bafyreib', 3);
    const failing = await as(submitter).submitBatch(root('c'), 'bafyreic', 3);
    const thin = await as(submitter).submitBatch(root('d'), 'bafyreid', 3);
    await as(members[0]).vote(passing, true);
    await as(members[1]).vote(passing, true);
    await as(members[2]).vote(passing, false);
    await as(members[0]).vote(failing, true);
    await as(members[1]).vote(failing, false);
    await as(members[2]).vote(failing, false);
    await as(members[0]).vote(thin, true);
    await as(members[1]).vote(thin, true);
    expect(await revertReason(reg.finalize(passing))).toBe('CONTRACT_REVERTED:VotingOpen');
    await conn.advanceTime(3601);
    expect(await revertReason(as(members[3]).vote(passing, true))).toBe('CONTRACT_REVERTED:VotingClosed');
    await as(outsider).finalize(passing);
    await reg.finalize(failing);
    await reg.finalize(thin);
    expect((await reg.getBatch(passing)).status).toBe('accepted');
    expect((await reg.getBatch(failing)).status).toBe('rejected');
    expect((await reg.getBatch(thin)).status).toBe('rejected');
    expect(await revertReason(reg.finalize(thin))).toBe('CONTRACT_REVERTED:VotingClosed');
    expect(await reg.acceptedCount()).toBe(2n);
    expect((await reg.acceptedBatches(0, 10)).map((b) => b.cid)).toEqual(['bafyreia', 'bafyreib']);
    expect((await reg.acceptedBatches(1, 1)).map((b) => b.cid)).toEqual(['bafyreib']);
    expect(await reg.acceptedBatches(5, 10)).toEqual([]);
  });

  it('lets the owner, or the members by vote, change the membership', async () => {
    expect(await revertReason(as(outsider).addMember(outsider.address))).toBe('CONTRACT_REVERTED:NotOwner');
    await reg.addMember(outsider.address);
    expect(await reg.isMember(outsider.address)).toBe(true);
    expect(await revertReason(reg.addMember(outsider.address))).toBe('CONTRACT_REVERTED:AlreadyMember');
    await reg.removeMember(outsider.address);
    expect(await reg.isMember(outsider.address)).toBe(false);
    expect(await revertReason(as(outsider).proposeMember(outsider.address, true))).toBe('CONTRACT_REVERTED:NotMember');
    const p = await as(members[0]).proposeMember(outsider.address, true);
    for (const m of members.slice(0, 4)) await as(m).voteMember(p, true);
    expect(await reg.isMember(outsider.address)).toBe(true);
    expect(await revertReason(as(members[4]).voteMember(p, true))).toBe('CONTRACT_REVERTED:VotingClosed');
    // Proposing to add a member who is one already, or a zero quorum at deployment, is a bad parameter.
    expect(await revertReason(as(members[0]).proposeMember(members[1].address, true))).toBe('CONTRACT_REVERTED:BadParameter');
    expect(await revertReason(RegistryClient.deploy(conn, owner, { quorum: 0, votingPeriod: 60, members: [] }))).toBe(
      'CONTRACT_REVERTED:BadParameter',
    );
  });
});

describe.skipIf(anvilBinary() === undefined)('ExperienceRegistry on anvil, shared by processes', () => {
  let anvil: Anvil;
  beforeAll(async () => {
    anvil = await startAnvil();
  }, 30_000);
  afterAll(async () => anvil?.stop());

  it('accepts a batch voted by members in other processes', async () => {
    const conn = await connectChain(anvil.url, { pollingInterval: 50 });
    expect(conn.chain.id).toBe(31338);
    for (const id of ids) await conn.fund(id.address, parseEther('10'));
    const reg = await RegistryClient.deploy(conn, owner, {
      quorum: 3,
      votingPeriod: 3600,
      members: members.slice(0, 3).map((m) => m.address),
    });
    const batch = await RegistryClient.at(conn, submitter, reg.address).submitBatch(root('anvil'), 'bafyreianvil', 7);
    const votes = members.slice(0, 3).map(
      (m, i) =>
        new Promise<string>((resolve) => {
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', 'test/helpers/registry-child.ts', anvil.url, reg.address, keys[3 + i], String(batch)],
            { stdio: ['ignore', 'pipe', 'inherit'] },
          );
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.on('exit', () => resolve(out.trim()));
        }),
    );
    // Three processes, three accounts, voting at once on one chain.
    for (const v of votes) expect(await v).toBe('voted');
    expect((await reg.getBatch(batch)).status).toBe('accepted');
    expect((await reg.acceptedBatches(0, 5))[0].cid).toBe('bafyreianvil');
  }, 120_000);
});
