import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { maxUint256 } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ChainConnection, connectChain, startInProcessChain } from '../src/network/chain.js';
import type { NodeIdentity } from '../src/network/identity.js';
import { type DeployOptions, RegistryClient } from '../src/network/registry.js';
import { devChain, fundedAccounts, root } from './helpers/dev-chain.js';
import { errorCode, revertReason } from './helpers/errors.js';

describe('ExperienceRegistry v2 on the in-process EVM (EDR)', () => {
  let conn: ChainConnection;
  let ids: NodeIdentity[];
  let owner: NodeIdentity;
  let outsider: NodeIdentity;
  let m: NodeIdentity[]; // candidate members

  beforeAll(async () => {
    conn = await startInProcessChain();
    ids = await fundedAccounts(conn, 'dso registry test', 14);
    [owner, outsider, ...m] = ids;
  }, 60_000);
  afterAll(async () => conn?.close());

  /** A registry whose members are the first `n` candidates; clients acting as anyone. */
  async function network(n: number, opts: Partial<DeployOptions> = {}) {
    const reg = await RegistryClient.deploy(conn, owner, { members: m.slice(0, n).map((x) => x.address), ...opts });
    return { reg, as: (who: NodeIdentity) => RegistryClient.at(conn, who, reg.address) };
  }
  const status = async (reg: RegistryClient, id: bigint) => (await reg.getBatch(id)).status;

  it('takes batches from members only, keyed by submitter and root, the submission counting as a yes', async () => {
    const { reg, as } = await network(5);
    expect(await revertReason(as(outsider).submitBatch(root('a'), 'bafyreia', 1))).toBe('CONTRACT_REVERTED:NotMember');
    const id = await as(m[0]).submitBatch(root('a'), 'bafyreia', 12);
    expect(await reg.getBatch(id)).toMatchObject({
      root: root('a'),
      cid: 'bafyreia',
      count: 12,
      submitter: m[0].address,
      status: 'pending',
      yes: 1,
      no: 0,
      electorate: 5,
      quorum: 3, // ceil(5 x 50%)
      approvalBps: 6666,
    });
    expect(await reg.hasVoted(id, m[0].address)).toBe(true);
    expect(await revertReason(as(m[0]).vote(id, true))).toBe('CONTRACT_REVERTED:AlreadyVoted');
    expect(await revertReason(as(m[0]).submitBatch(root('a'), 'bafyreia2', 3))).toBe('CONTRACT_REVERTED:AlreadySubmitted');
    expect(await revertReason(as(m[0]).submitBatch(root('e'), 'x', 0))).toBe('CONTRACT_REVERTED:EmptyBatch');
    expect(await revertReason(as(m[0]).submitBatch(root('e'), '', 1))).toBe('CONTRACT_REVERTED:EmptyBatch');
    expect(await revertReason(as(m[0]).submitBatch(root('e'), 'b'.repeat(129), 1))).toBe('CONTRACT_REVERTED:CidTooLong');
    expect(await reg.batchIdOf(root('a'), m[0].address)).toBe(id);
    expect(await reg.batchIdOf(root('a'), m[1].address)).toBeUndefined();
  });

  it('lets no copied root block the honest submission (squatting)', async () => {
    const { reg, as } = await network(4);
    const [honest, attacker] = [m[0], m[1]];
    // The attacker saw (root, cid) in the honest transaction and got its copy mined first.
    const copy = await as(attacker).submitBatch(root('honest'), 'bafyhonest', 5);
    const real = await as(honest).submitBatch(root('honest'), 'bafyhonest', 5);
    expect(real).not.toBe(copy);
    expect(await reg.batchIdOf(root('honest'), honest.address)).toBe(real);
    expect(await reg.batchIdOf(root('honest'), attacker.address)).toBe(copy);
    expect((await reg.getBatch(real)).submitter).toBe(honest.address);
    // Voting the copy down burns nothing of the honest batch.
    await as(m[2]).vote(copy, false);
    await as(m[3]).vote(copy, false);
    expect(await status(reg, copy)).toBe('rejected');
    await as(m[2]).vote(real, true);
    await as(m[3]).vote(real, true);
    expect(await status(reg, real)).toBe('accepted');
  });

  it('decides at once only when the snapshot settles it; otherwise finalize after the deadline, by anyone', async () => {
    const { reg, as } = await network(5, { votingPeriod: 600 });
    const early = await as(m[0]).submitBatch(root('early'), 'c', 1);
    await as(m[1]).vote(early, true);
    await as(m[2]).vote(early, true);
    // 3 of 5 yes: a quorum, but 2 more no votes would leave 3/5 < 2/3.
    expect(await status(reg, early)).toBe('pending');
    await as(m[3]).vote(early, true);
    expect(await status(reg, early)).toBe('accepted');
    expect(await revertReason(as(m[4]).vote(early, false))).toBe('CONTRACT_REVERTED:VotingClosed');

    const doomed = await as(m[0]).submitBatch(root('doomed'), 'c', 1);
    await as(m[1]).vote(doomed, false);
    expect(await status(reg, doomed)).toBe('pending'); // 3 more yes would still make 4/5
    await as(m[2]).vote(doomed, false);
    expect(await status(reg, doomed)).toBe('rejected'); // at most 3/5 now

    const passing = await as(m[0]).submitBatch(root('passing'), 'c', 1);
    const failing = await as(m[0]).submitBatch(root('failing'), 'c', 1);
    const thin = await as(m[0]).submitBatch(root('thin'), 'c', 1);
    await as(m[1]).vote(passing, true);
    await as(m[2]).vote(passing, true);
    await as(m[3]).vote(passing, false); // 3 of 4 votes
    await as(m[1]).vote(failing, true);
    await as(m[2]).vote(failing, false);
    await as(m[3]).vote(failing, false); // 2 of 4
    await as(m[1]).vote(thin, true); // 2 votes: under the quorum of 3
    expect(await revertReason(as(outsider).finalize(passing))).toBe('CONTRACT_REVERTED:VotingOpen');
    await conn.advanceTime(601);
    expect(await revertReason(as(m[4]).vote(passing, true))).toBe('CONTRACT_REVERTED:VotingClosed');
    expect(await as(outsider).finalize(passing)).toBe('accepted');
    expect(await as(outsider).finalize(failing)).toBe('rejected');
    expect(await as(outsider).finalize(thin)).toBe('rejected');
    // Finalizing a decided batch changes nothing and says how it ended.
    expect(await as(outsider).finalize(passing)).toBe('accepted');
    expect(await revertReason(as(outsider).finalize(99n))).toBe('CONTRACT_REVERTED:UnknownBatch');
    expect((await reg.acceptedBatches(0, 10)).map((b) => b.id)).toEqual([early, passing]);
    expect(await reg.acceptedCount()).toBe(2n);
  });

  it('decides without manual steps at 1, 2, 3 and 10 members', async () => {
    const solo = await network(1);
    expect(await status(solo.reg, await solo.as(m[0]).submitBatch(root('solo'), 'c', 1))).toBe('accepted');

    const two = await network(2, { votingPeriod: 60 });
    const yes = await two.as(m[0]).submitBatch(root('2y'), 'c', 1);
    await two.as(m[1]).vote(yes, true);
    expect(await status(two.reg, yes)).toBe('accepted');
    const no = await two.as(m[0]).submitBatch(root('2n'), 'c', 1);
    await two.as(m[1]).vote(no, false);
    expect(await status(two.reg, no)).toBe('rejected');
    // The other member silent: the submitter's yes is a quorum of 1 of 2, and finalize accepts it.
    const quiet = await two.as(m[0]).submitBatch(root('2q'), 'c', 1);
    await conn.advanceTime(61);
    expect(await two.as(m[1]).finalize(quiet)).toBe('accepted');

    const three = await network(3);
    const b3 = await three.as(m[2]).submitBatch(root('3'), 'c', 1);
    await three.as(m[0]).vote(b3, true);
    expect(await status(three.reg, b3)).toBe('accepted');

    const ten = await network(10, { votingPeriod: 60 });
    const b10 = await ten.as(m[0]).submitBatch(root('10'), 'c', 1);
    for (let i = 1; i <= 5; i++) await ten.as(m[i]).vote(b10, true);
    expect(await status(ten.reg, b10)).toBe('pending'); // 6 of 10 yes: 4 no votes would leave 60%
    await ten.as(m[6]).vote(b10, true);
    expect(await status(ten.reg, b10)).toBe('accepted'); // 7 of 10 whatever the rest do
    const q10 = await ten.as(m[0]).submitBatch(root('10q'), 'c', 1);
    for (let i = 1; i <= 3; i++) await ten.as(m[i]).vote(q10, true);
    await ten.as(m[4]).vote(q10, false); // 5 votes = the quorum, 4/5 approve
    await conn.advanceTime(61);
    expect(await ten.as(outsider).finalize(q10)).toBe('accepted');
  });

  it('counts votes against the snapshot: removals and additions during a vote change nothing', async () => {
    const { reg, as } = await network(5, { votingPeriod: 600 });
    const [a, b, c, d, e] = m;
    const f = m[5];
    const batch = await as(a).submitBatch(root('snap'), 'c', 1);
    await as(b).vote(batch, true);
    await as(c).vote(batch, true);
    // Members remove b and c (yes voters) while the batch is open, and add f.
    for (const who of [b, c]) {
      const p = await as(a).proposeMember(who.address, false);
      for (const v of [d, e, b, c].filter((x) => x !== who))
        if ((await reg.getProposal(p)).status === 'pending') await as(v).voteProposal(p, true);
      expect((await reg.getProposal(p)).status).toBe('accepted');
    }
    const add = await as(a).proposeMember(f.address, true);
    await as(d).voteProposal(add, true);
    expect(await reg.isMember(f.address)).toBe(true);
    expect(await reg.memberCount()).toBe(4);
    // The batch still counts 5 voters, 3 of them yes: d and e can both vote, and no vote underflows.
    expect(await reg.getBatch(batch)).toMatchObject({ electorate: 5, yes: 3, no: 0, status: 'pending' });
    expect(await revertReason(as(f).vote(batch, true))).toBe('CONTRACT_REVERTED:NotEligible');
    await as(d).vote(batch, false);
    expect(await status(reg, batch)).toBe('pending');
    await as(e).vote(batch, false);
    // 3 yes of 5 is under 2/3: rejected although every member left voted.
    expect(await reg.getBatch(batch)).toMatchObject({ yes: 3, no: 2, status: 'rejected' });
    // A removed member still votes on what it was a member for, and on nothing newer.
    const old = await as(a).submitBatch(root('old'), 'c', 1); // snapshot: a, d, e, f
    expect(await revertReason(as(b).vote(old, true))).toBe('CONTRACT_REVERTED:NotMember');
    expect(await reg.getBatch(old)).toMatchObject({ electorate: 4, quorum: 2 });
  });

  it('keeps a removed and re-added member to the seats it held', async () => {
    const { reg, as } = await network(3, { votingPeriod: 600 });
    const [a, b, c] = m;
    const before = await as(a).submitBatch(root('before'), 'c', 1); // a, b, c
    const out = await as(a).proposeMember(c.address, false);
    await as(b).voteProposal(out, true);
    expect(await reg.isMember(c.address)).toBe(false);
    const between = await as(a).submitBatch(root('between'), 'c', 1); // a, b
    const back = await as(a).proposeMember(c.address, true);
    await as(b).voteProposal(back, true);
    expect(await reg.isMember(c.address)).toBe(true);
    const epochBetween = (await reg.getBatch(between)).epoch;
    expect(await reg.wasMember(c.address, (await reg.getBatch(before)).epoch)).toBe(true);
    expect(await reg.wasMember(c.address, epochBetween)).toBe(false);
    expect(await reg.canVote(between, c.address)).toBe(false);
    expect(await revertReason(as(c).vote(between, true))).toBe('CONTRACT_REVERTED:NotEligible');
    await as(c).vote(before, true);
    expect(await reg.getBatch(before)).toMatchObject({ yes: 2, status: 'accepted' });
    // Removed and re-added, it still votes once per decision.
    expect(await revertReason(as(c).vote(before, true))).toBe('CONTRACT_REVERTED:VotingClosed');
  });

  it('governs membership and parameters by proposals with a full life cycle and events', async () => {
    const { reg, as } = await network(3, { votingPeriod: 600 });
    const [a, b, c, d] = m;
    expect(await revertReason(as(outsider).proposeMember(outsider.address, true))).toBe('CONTRACT_REVERTED:NotMember');
    expect(await revertReason(as(a).proposeMember(b.address, true))).toBe('CONTRACT_REVERTED:NoChange');
    expect(await revertReason(as(a).proposeMember(d.address, false))).toBe('CONTRACT_REVERTED:NoChange');
    expect(await revertReason(as(a).proposeMember('0x0000000000000000000000000000000000000000', true))).toBe(
      'CONTRACT_REVERTED:BadParameter',
    );
    const p = await as(a).proposeMember(d.address, true);
    expect(await reg.openProposalOf('addMember', d.address)).toBe(p);
    expect(await revertReason(as(b).proposeMember(d.address, true))).toBe('CONTRACT_REVERTED:ProposalOpen');
    expect(await reg.getProposal(p)).toMatchObject({
      kind: 'addMember',
      account: d.address,
      proposer: a.address,
      yes: 1,
      status: 'pending',
    });
    await as(b).voteProposal(p, false);
    await as(c).voteProposal(p, false);
    expect((await reg.getProposal(p)).status).toBe('rejected');
    expect(await reg.isMember(d.address)).toBe(false);
    expect(await reg.openProposalOf('addMember', d.address)).toBeUndefined();

    // Parameters: bounds, no-ops and duplicates refused; an accepted change applies to later decisions only.
    expect(await revertReason(as(a).proposeParameter('votingPeriod', 366 * 24 * 3600))).toBe('CONTRACT_REVERTED:BadParameter');
    expect(await revertReason(as(a).proposeParameter('votingPeriod', 59))).toBe('CONTRACT_REVERTED:BadParameter');
    expect(await revertReason(as(a).proposeParameter('approvalBps', 5000))).toBe('CONTRACT_REVERTED:BadParameter');
    expect(await revertReason(as(a).proposeParameter('quorumBps', 0))).toBe('CONTRACT_REVERTED:BadParameter');
    expect(await revertReason(as(a).proposeParameter('quorumBps', 10_001))).toBe('CONTRACT_REVERTED:BadParameter');
    expect(await revertReason(as(a).proposeParameter('quorumBps', 5000))).toBe('CONTRACT_REVERTED:NoChange');
    const open = await as(a).submitBatch(root('open'), 'c', 1);
    const q = await as(a).proposeParameter('approvalBps', 10_000);
    expect(await revertReason(as(b).proposeParameter('approvalBps', 9000))).toBe('CONTRACT_REVERTED:ProposalOpen');
    await as(b).voteProposal(q, true);
    expect((await reg.getProposal(q)).status).toBe('accepted');
    expect(await reg.parameters()).toEqual({ quorumBps: 5000, approvalBps: 10_000, votingPeriod: 600 });
    await as(b).vote(open, true); // 2 of 3 under the approval it was created with
    expect(await status(reg, open)).toBe('accepted');

    // Expiry: without a quorum by the deadline, finalizeProposal expires it and frees its slot.
    const lonely = await as(a).proposeParameter('quorumBps', 10_000); // needs 3 of 3 votes (approval 100% now)
    expect(await revertReason(as(c).finalizeProposal(lonely))).toBe('CONTRACT_REVERTED:VotingOpen');
    await conn.advanceTime(601);
    expect(await revertReason(as(b).voteProposal(lonely, true))).toBe('CONTRACT_REVERTED:VotingClosed');
    expect(await as(outsider).finalizeProposal(lonely)).toBe('expired');
    expect(await as(outsider).finalizeProposal(lonely)).toBe('expired');
    expect(await reg.openProposalOf('quorumBps')).toBeUndefined();

    // Events for every state change.
    const { head } = await reg.status();
    const types = (await reg.eventsIn(0n, head.number)).map((e) => e.type);
    for (const t of ['ProposalCreated', 'ProposalAccepted', 'ProposalRejected', 'ProposalExpired', 'ParametersSet'])
      expect(types, t).toContain(t);
  });

  it('never lets removals leave the registry without a member', async () => {
    const { reg, as } = await network(2, { votingPeriod: 60 });
    const [a, b] = m;
    const p = await as(a).proposeMember(b.address, false);
    // With b's removal open, 2 members - 1 open removal - 1 = 0: nobody else may be proposed away.
    expect(await revertReason(as(b).proposeMember(a.address, false))).toBe('CONTRACT_REVERTED:TooFewMembers');
    await as(b).voteProposal(p, true);
    expect(await reg.allMembers()).toEqual([a.address]);
    expect(await revertReason(as(a).proposeMember(a.address, false))).toBe('CONTRACT_REVERTED:TooFewMembers');
    // One member decides alone, so the registry goes on.
    expect(await status(reg, await as(a).submitBatch(root('alone'), 'c', 1))).toBe('accepted');
    expect((await reg.status()).pendingRemovals).toBe(0);
  });

  it('limits the owner to bootstrap, in pages, then sealing; ownership moves or is renounced with events', async () => {
    const { reg, as } = await network(2);
    expect(await revertReason(as(m[0]).addMembers([m[5].address]))).toBe('CONTRACT_REVERTED:NotOwner');
    await reg.addMembers([m[2].address, m[3].address], 1);
    expect(await reg.memberCount()).toBe(4);
    expect(await revertReason(reg.addMembers([m[3].address]))).toBe('CONTRACT_REVERTED:AlreadyMember');
    // The owner cannot add someone the members are deciding on.
    const p = await as(m[0]).proposeMember(m[4].address, true);
    expect(await revertReason(reg.addMembers([m[4].address]))).toBe('CONTRACT_REVERTED:ProposalOpen');
    await as(m[1]).voteProposal(p, true);
    await as(m[2]).voteProposal(p, true);
    expect(await reg.isMember(m[4].address)).toBe(true);
    await reg.sealBootstrap();
    expect(await revertReason(reg.addMembers([m[6].address]))).toBe('CONTRACT_REVERTED:BootstrapOver');
    expect(await revertReason(reg.sealBootstrap())).toBe('CONTRACT_REVERTED:BootstrapOver');
    await reg.transferOwnership(m[0].address);
    expect((await reg.status()).owner).toBe(m[0].address);
    expect(await revertReason(reg.renounceOwnership())).toBe('CONTRACT_REVERTED:NotOwner');
    await as(m[0]).renounceOwnership();
    const s = await reg.status();
    expect(s).toMatchObject({ owner: '0x0000000000000000000000000000000000000000', bootstrapSealed: true, memberCount: 5 });
    const moves = (await reg.eventsIn(s.deployedAt, s.head.number)).filter((e) => e.type === 'OwnershipTransferred');
    expect(moves.map((e) => (e.type === 'OwnershipTransferred' ? e.newOwner : ''))).toEqual([
      owner.address,
      m[0].address,
      '0x0000000000000000000000000000000000000000',
    ]);
    const empty = await RegistryClient.deploy(conn, owner, { members: [] });
    expect(await revertReason(empty.sealBootstrap())).toBe('CONTRACT_REVERTED:TooFewMembers');
  });

  it('refuses parameters out of bounds at deploy, and pages reads without overflow', async () => {
    for (const bad of [
      { votingPeriod: 2n ** 64n - 1n },
      { votingPeriod: 59 },
      { votingPeriod: 365 * 24 * 3600 + 1 },
      { quorumBps: 0 },
      { quorumBps: 10_001 },
      { approvalBps: 5000 },
      { approvalBps: 10_001 },
    ])
      expect(await revertReason(RegistryClient.deploy(conn, owner, { members: [], ...bad })), Object.keys(bad).join()).toBe(
        'CONTRACT_REVERTED:BadParameter',
      );
    expect(await errorCode(RegistryClient.deploy(conn, owner, { members: [], pageSize: 0 }))).toBe('INVALID_COUNT');
    // What the ABI cannot carry is refused before anything is sent.
    expect(await errorCode(RegistryClient.deploy(conn, owner, { members: [], votingPeriod: 2n ** 64n }))).toBe('INVALID_ARGUMENT');
    const { reg, as } = await network(1);
    await as(m[0]).submitBatch(root('p1'), 'c1', 1);
    await as(m[0]).submitBatch(root('p2'), 'c2', 1);
    expect((await reg.acceptedBatches(1, maxUint256)).map((b) => b.cid)).toEqual(['c2']);
    expect(await reg.acceptedBatches(maxUint256, maxUint256)).toEqual([]);
    expect(await reg.members(maxUint256, maxUint256)).toEqual([]);
    expect(await reg.members(0, maxUint256)).toEqual([m[0].address]);
    expect(await errorCode(as(m[0]).submitBatch(root('p3'), 'c3', 2 ** 32))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(reg.getBatch(-1n))).toBe('INVALID_ARGUMENT');
  });

  it('bootstraps 1,000 members in pages that each fit a transaction', async () => {
    const accounts = Array.from({ length: 1000 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}` as const);
    const reg = await RegistryClient.deploy(conn, owner, { members: accounts, seal: true });
    const s = await reg.status();
    expect(s).toMatchObject({ memberCount: 1000, membershipEpoch: 1000, bootstrapSealed: true });
    const listed = await reg.allMembers();
    expect(new Set(listed.map((a) => a.toLowerCase()))).toEqual(new Set(accounts));
    const chain = devChain(conn);
    for (let n = s.deployedAt; n <= s.head.number; n++) {
      const block = await chain.getBlock({ blockNumber: n });
      for (const tx of block.transactions) expect((await chain.getTransactionReceipt({ hash: tx })).gasUsed).toBeLessThan(2n ** 24n);
    }
  }, 60_000);

  it('returns the ids the chain gave to concurrent submissions, from one account and from several', async () => {
    const { reg, as } = await network(3);
    const roots = ['c0', 'c1', 'c2', 'c3'].map(root);
    const got = await Promise.all([
      as(m[0]).submitBatch(roots[0], 'cid0', 1),
      as(m[0]).submitBatch(roots[1], 'cid1', 1),
      as(m[1]).submitBatch(roots[2], 'cid2', 1),
      as(m[2]).submitBatch(roots[3], 'cid3', 1),
    ]);
    expect(new Set(got).size).toBe(4);
    for (let i = 0; i < 4; i++) expect((await reg.getBatch(got[i])).cid).toBe(`cid${i}`);
  });

  it('sends no vote once the chain clock has passed the deadline, whatever the wall clock says', async () => {
    const { reg, as } = await network(3, { votingPeriod: 60 });
    const id = await as(m[0]).submitBatch(root('late'), 'c', 1);
    const { deadline } = await reg.getBatch(id);
    // Wall clock: well before the deadline. Chain clock: past it.
    expect(deadline * 1000).toBeGreaterThan(Date.now() - 3_600_000);
    await conn.advanceTime(120);
    const chain = devChain(conn);
    const nonce = await chain.getTransactionCount({ address: m[1].address });
    expect(await revertReason(as(m[1]).vote(id, true))).toBe('CONTRACT_REVERTED:VotingClosed');
    expect(await chain.getTransactionCount({ address: m[1].address })).toBe(nonce);
    expect(await reg.canVote(id, m[1].address)).toBe(false);
  });

  it('names the contract error of a call refused at estimation, and of events it reads back', async () => {
    const { reg, as } = await network(2);
    const id = await as(m[0]).submitBatch(root('ev'), 'bafyev', 3);
    const { head } = await reg.status();
    const events = await reg.eventsIn(head.number, head.number);
    expect(events).toMatchObject([{ type: 'BatchSubmitted', id, root: root('ev'), submitter: m[0].address, cid: 'bafyev', count: 3 }]);
    expect(await revertReason(as(outsider).vote(id, true))).toBe('CONTRACT_REVERTED:NotMember');
    expect(await revertReason(as(m[1]).vote(77n, true))).toBe('CONTRACT_REVERTED:UnknownBatch');
    expect(await revertReason(as(m[1]).voteProposal(5n, true))).toBe('CONTRACT_REVERTED:UnknownProposal');
  });
});

describe('RPC deadlines', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Answers eth_chainId at once and nothing else ever: a chain that hangs after connecting.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const r = JSON.parse(body) as { id: number; method: string };
        if (r.method === 'eth_chainId') res.end(JSON.stringify({ jsonrpc: '2.0', id: r.id, result: '0x7a69' }));
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  it('fails a request that gets no answer with CHAIN_ERROR within its deadline', async () => {
    const conn = await connectChain(url, { rpcTimeoutMs: 300, pollingInterval: 50 });
    const [id] = await fundedAccounts({ ...conn, fund: async () => undefined }, 'dso rpc deadline', 1);
    const reg = RegistryClient.at(conn, id, '0x5FbDB2315678afecb367f032d93F642f64180aa3');
    const t0 = Date.now();
    expect(await errorCode(reg.batchCount())).toBe('CHAIN_ERROR');
    expect(await errorCode(reg.submitBatch(root('x'), 'c', 1))).toBe('CHAIN_ERROR');
    // Three tries (retryCount 2) of 300 ms each, and no more.
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
