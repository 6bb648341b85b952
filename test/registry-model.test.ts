/**
 * Property test: seeded random sequences of submissions, votes,
 * finalizations, membership and parameter proposals, owner bootstrap steps
 * and clock jumps (to deadlines exactly, too), run through RegistryClient
 * against the contract on the in-process EVM and against the reference model
 * (test/helpers/registry-model.ts). After every step the outcome (success or
 * the contract's error name) and the whole state must agree.
 */
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ChainConnection, startInProcessChain } from '../src/network/chain.js';
import type { NodeIdentity } from '../src/network/identity.js';
import { type ParameterName, RegistryClient } from '../src/network/registry.js';
import { devChain, fundedAccounts, root } from './helpers/dev-chain.js';
import { revertReason } from './helpers/errors.js';
import { rng } from './helpers/random.js';
import { type ModelTally, RegistryModel } from './helpers/registry-model.js';

const STEPS = 200;
/** Outcomes over all seeds (action -> result), checked at the end: the runs reached what they are meant to test. */
const seen = new Map<string, number>();

describe('ExperienceRegistry against its reference model', () => {
  let conn: ChainConnection;
  let ids: NodeIdentity[];
  beforeAll(async () => {
    conn = await startInProcessChain();
    ids = await fundedAccounts(conn, 'dso registry model', 9);
  }, 60_000);
  afterAll(async () => conn?.close());

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`agrees after every step (seed ${seed})`, async () => {
      const rand = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
      const chance = (p: number) => rand() < p;
      const [owner, ...others] = ids;
      const params = {
        quorumBps: pick([1, 2500, 5000, 7500, 10_000]),
        approvalBps: pick([5001, 6666, 7500, 10_000]),
        votingPeriod: pick([60, 120, 600]),
      };
      const initial = others.filter(() => chance(0.5)).slice(0, 4);
      if (initial.length === 0) initial.push(others[0]);
      const reg = await RegistryClient.deploy(conn, owner, { ...params, members: initial.map((x) => x.address) });
      const model = new RegistryModel(
        owner.address,
        params,
        initial.map((x) => x.address),
      );
      const as = (who: NodeIdentity) => RegistryClient.at(conn, who, reg.address);
      const chain = devChain(conn);
      let now = Number((await chain.getBlock()).timestamp);
      const history: string[] = [];

      const byAddress = (a: string) => ids.find((x) => x.address.toLowerCase() === a) as NodeIdentity;
      const sender = () => (chance(0.8) && model.members.length > 0 ? byAddress(pick(model.members)) : pick(ids));
      const open = () => [...model.batches, ...model.proposals].filter((d) => d.status === 'pending' && d.deadline >= now);
      // Mostly an open decision and one of its voters who has not voted; else anything, unknown ids included.
      const target = (list: ModelTally[]) => {
        const live = list.map((d, i) => ({ d, i })).filter(({ d }) => d.status === 'pending' && d.deadline >= now);
        if (live.length === 0 || chance(0.2)) return { id: Math.floor(rand() * (list.length + 1)), voter: sender() };
        // Sometimes a member who joined after the decision was made (not in its snapshot).
        const late = live.flatMap(({ d, i }) =>
          ids.filter((x) => model.isMember(x.address) && !model.wasMember(x.address, d.epoch)).map((voter) => ({ id: i, voter })),
        );
        if (late.length > 0 && chance(0.3)) return pick(late);
        const { d, i } = pick(live);
        const voters = ids.filter((x) => model.wasMember(x.address, d.epoch) && !d.voted.has(x.address.toLowerCase()));
        return { id: i, voter: voters.length > 0 && chance(0.8) ? pick(voters) : sender() };
      };

      for (let step = 0; step < STEPS; step++) {
        // The clock: one second per step, sometimes a jump, sometimes exactly onto or just past a deadline.
        now += 1;
        const r = rand();
        if (r < 0.04) now += 1 + Math.floor(rand() * model.params.votingPeriod);
        else if (r < 0.1 && open().length > 0) now = Math.max(now, pick(open()).deadline + (chance(0.5) ? 0 : 1));
        await chain.setNextBlockTimestamp({ timestamp: BigInt(now) });

        const who = sender();
        const a = rand();
        let label: string;
        let expected: string | undefined;
        let run: () => Promise<unknown>;
        if (a < 0.22) {
          const rt = root(`r${Math.floor(rand() * 6)}`);
          const cid = chance(0.05) ? '' : chance(0.05) ? 'b'.repeat(129) : `bafy${step}`;
          const count = chance(0.05) ? 0 : 1 + Math.floor(rand() * 100);
          label = `submit ${who.address.slice(0, 6)} ${rt.slice(0, 6)} cid${cid.length} n${count}`;
          expected = model.submit(who.address, rt, cid, count, now);
          run = () => as(who).submitBatch(rt, cid, count);
        } else if (a < 0.5) {
          const { id, voter } = target(model.batches);
          const yes = chance(0.7);
          label = `vote ${voter.address.slice(0, 6)} b${id} ${yes}`;
          expected = model.vote(voter.address, id, yes, now);
          run = () => as(voter).vote(BigInt(id), yes);
        } else if (a < 0.57) {
          const id = Math.floor(rand() * (model.batches.length + 1));
          label = `finalize b${id}`;
          expected = model.finalize(id, now);
          // The client answers a decided batch with its status instead of sending a transaction that would revert.
          if (expected === 'VotingClosed') expected = undefined;
          run = () => as(who).finalize(BigInt(id));
        } else if (a < 0.66) {
          const add = chance(0.5);
          const fitting = ids.slice(1).filter((x) => model.isMember(x.address) !== add);
          const target = pick(fitting.length > 0 && chance(0.8) ? fitting : ids.slice(1));
          label = `propose ${add ? 'add' : 'remove'} ${target.address.slice(0, 6)} by ${who.address.slice(0, 6)}`;
          expected = model.proposeMember(who.address, target.address, add, now);
          run = () => as(who).proposeMember(target.address, add);
        } else if (a < 0.71) {
          const kind = pick<ParameterName>(['quorumBps', 'approvalBps', 'votingPeriod']);
          const value = pick(
            {
              quorumBps: [0, 1, 3333, 5000, 10_000, 10_001],
              approvalBps: [5000, 5001, 6666, 9000, 10_000],
              votingPeriod: [59, 60, 90, 600, 365 * 24 * 3600, 365 * 24 * 3600 + 1],
            }[kind],
          );
          label = `propose ${kind}=${value}`;
          expected = model.proposeParameter(who.address, kind, value, now);
          run = () => as(who).proposeParameter(kind, value);
        } else if (a < 0.87) {
          const { id, voter } = target(model.proposals);
          const yes = chance(0.7);
          label = `voteProposal ${voter.address.slice(0, 6)} p${id} ${yes}`;
          expected = model.voteProposal(voter.address, id, yes, now);
          run = () => as(voter).voteProposal(BigInt(id), yes);
        } else if (a < 0.92) {
          const id = Math.floor(rand() * (model.proposals.length + 1));
          label = `finalizeProposal p${id}`;
          expected = model.finalizeProposal(id, now);
          if (expected === 'VotingClosed') expected = undefined;
          run = () => as(who).finalizeProposal(BigInt(id));
        } else {
          const actor = chance(0.8) && model.owner ? byAddress(model.owner) : who;
          const o = rand();
          if (o < 0.8) {
            const outside = others.filter((x) => !model.isMember(x.address));
            const add = [pick(outside.length > 0 && chance(0.8) ? outside : others), ...others.filter(() => chance(0.1))].slice(0, 3);
            label = `addMembers ${add.length} by ${actor.address.slice(0, 6)}`;
            expected = model.addMembers(
              actor.address,
              add.map((x) => x.address),
            );
            run = () => as(actor).addMembers(add.map((x) => x.address));
          } else if (o < 0.88) {
            label = `seal by ${actor.address.slice(0, 6)}`;
            expected = model.seal(actor.address);
            run = () => as(actor).sealBootstrap();
          } else if (o < 0.97) {
            const to = pick(ids);
            label = `transferOwnership to ${to.address.slice(0, 6)}`;
            expected = model.transferOwnership(actor.address, to.address);
            run = () => as(actor).transferOwnership(to.address);
          } else {
            label = 'renounceOwnership';
            expected = model.transferOwnership(actor.address, undefined);
            run = () => as(actor).renounceOwnership();
          }
        }
        history.push(`${step} t=${now} ${label} -> ${expected ?? 'ok'}`);
        const outcome = `${label.split(' ')[0]} ${expected ?? 'ok'}`;
        seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
        const got = await revertReason(run());
        expect(got, history.slice(-12).join('\n')).toBe(expected === undefined ? 'no error' : `CONTRACT_REVERTED:${expected}`);
        await compare(reg, model, ids, history);
      }
      for (const d of [...model.batches, ...model.proposals]) seen.set(`status ${d.status}`, (seen.get(`status ${d.status}`) ?? 0) + 1);
      for (const p of model.proposals)
        if (p.status === 'accepted') seen.set(`executed ${p.kind}`, (seen.get(`executed ${p.kind}`) ?? 0) + 1);
    }, 180_000);
  }

  it('reached every outcome it is meant to test', () => {
    const wanted = [
      /^submit ok$/,
      /^submit NotMember$/,
      /^submit AlreadySubmitted$/,
      /^vote ok$/,
      /^vote(Proposal)? AlreadyVoted$/,
      /^vote(Proposal)? VotingClosed$/,
      /^vote(Proposal)? NotEligible$/,
      /^vote(Proposal)? NotMember$/,
      /^finalize ok$/,
      /^finalize VotingOpen$/,
      /^voteProposal ok$/,
      /^finalizeProposal ok$/,
      /^propose ProposalOpen$/,
      /^propose NoChange$/,
      /^propose BadParameter$/,
      /^propose TooFewMembers$/,
      /^addMembers ok$/,
      /^addMembers BootstrapOver$/,
      /^addMembers ProposalOpen$/,
      /^seal ok$/,
      /^status accepted$/,
      /^status rejected$/,
      /^status expired$/,
      /^executed addMember$/,
      /^executed removeMember$/,
      /^executed (quorumBps|approvalBps|votingPeriod)$/,
    ];
    expect(wanted.filter((w) => ![...seen.keys()].some((k) => w.test(k))).map(String), JSON.stringify([...seen].sort())).toEqual([]);
  });
});

async function compare(reg: RegistryClient, model: RegistryModel, ids: NodeIdentity[], history: string[]): Promise<void> {
  const why = history.slice(-12).join('\n');
  const s = await reg.status();
  expect(
    {
      owner: s.owner.toLowerCase(),
      sealed: s.bootstrapSealed,
      params: { quorumBps: s.quorumBps, approvalBps: s.approvalBps, votingPeriod: s.votingPeriod },
      epoch: s.membershipEpoch,
      pendingRemovals: s.pendingRemovals,
      batches: Number(s.batchCount),
      proposals: Number(s.proposalCount),
      members: (await reg.members()).map((a) => a.toLowerCase()),
      accepted: (await reg.acceptedBatches(0, 500)).map((b) => Number(b.id)),
    },
    why,
  ).toEqual({
    owner: model.owner ?? '0x0000000000000000000000000000000000000000',
    sealed: model.sealed,
    params: model.params,
    epoch: model.epoch,
    pendingRemovals: model.pendingRemovals,
    batches: model.batches.length,
    proposals: model.proposals.length,
    members: model.members,
    accepted: model.accepted,
  });
  const tally = (t: Omit<ModelTally, 'voted' | 'status'> & { status: string }) => ({
    deadline: t.deadline,
    epoch: t.epoch,
    electorate: t.electorate,
    quorum: t.quorum,
    approvalBps: t.approvalBps,
    yes: t.yes,
    no: t.no,
    status: t.status,
  });
  for (let i = 0; i < model.batches.length; i++) {
    const b = await reg.getBatch(BigInt(i));
    const m = model.batches[i];
    expect({ ...tally(b), submitter: b.submitter.toLowerCase(), root: b.root }, `batch ${i}\n${why}`).toEqual({
      ...tally(m),
      submitter: m.submitter,
      root: m.root,
    });
  }
  for (let i = 0; i < model.proposals.length; i++) {
    const p = await reg.getProposal(BigInt(i));
    const m = model.proposals[i];
    expect({ ...tally(p), kind: p.kind, account: p.account.toLowerCase(), value: p.value }, `proposal ${i}\n${why}`).toEqual({
      ...tally(m),
      kind: m.kind,
      account: m.account,
      value: m.value,
    });
  }
  // Who has voted on the newest batch, for every account (members past and present, outsiders).
  const last = model.batches.length - 1;
  if (last >= 0)
    for (const a of ids.map((x) => x.address.toLowerCase()))
      expect(await reg.hasVoted(BigInt(last), a as Hex), `hasVoted ${a} b${last}\n${why}`).toBe(model.batches[last].voted.has(a));
}
