/**
 * What the dso registry commands do, as data their caller prints (a table or
 * JSON). Membership follows the contract: the owner adds members directly
 * while the bootstrap is not sealed; otherwise a member proposes, the
 * proposal counts as its yes, and the other members vote.
 */
import { formatEther, type Hex, isAddressEqual } from 'viem';

import {
  contractError,
  type DecisionStatus,
  type ParameterName,
  RegistryClient,
  type RegistryProposal,
  type RegistryStatus,
} from '../../network/registry.js';
import { type ChainFlags, openChain, openRegistry, type RegistryFlags, signer } from './session.js';

export interface DeployFlags extends ChainFlags {
  members: Hex[];
  quorumBps?: number;
  approvalBps?: number;
  votingPeriod?: number;
  seal?: boolean;
}

export async function deploy(o: DeployFlags): Promise<{ registry: Hex; owner: Hex; members: number; sealed: boolean }> {
  const identity = signer(o, 'deploy');
  const chain = await openChain(o);
  const reg = await RegistryClient.deploy(chain, identity, {
    members: o.members,
    ...(o.quorumBps !== undefined ? { quorumBps: o.quorumBps } : {}),
    ...(o.approvalBps !== undefined ? { approvalBps: o.approvalBps } : {}),
    ...(o.votingPeriod !== undefined ? { votingPeriod: o.votingPeriod } : {}),
    seal: o.seal === true,
  });
  return { registry: reg.address, owner: identity.address, members: await reg.memberCount(), sealed: o.seal === true };
}

export interface StatusReport extends RegistryStatus {
  chainId: number;
  /** The --key account: whether it is a member, and its balance in ether. */
  you?: { account: Hex; member: boolean; balance: string };
}

export async function status(o: RegistryFlags): Promise<StatusReport> {
  const { registry, identity } = await openRegistry(o);
  const s = await registry.status();
  const report: StatusReport = { ...s, chainId: registry.chainId };
  if (identity)
    report.you = {
      account: identity.address,
      member: await registry.isMember(identity.address),
      balance: formatEther(await registry.balance(identity.address)),
    };
  return report;
}

export async function members(o: RegistryFlags): Promise<Array<{ account: Hex; endpoint: string }>> {
  const { registry } = await openRegistry(o);
  const out: Array<{ account: Hex; endpoint: string }> = [];
  for (;;) {
    const page = await registry.endpoints(out.length);
    out.push(...page);
    if (page.length < 500) return out;
  }
}

/** What a membership or parameter command did: the member added at once, or the proposal it made and where it stands. */
export type Outcome = { added: Hex } | { proposal: ProposalView };

export interface ProposalView {
  id: string;
  kind: RegistryProposal['kind'];
  account: Hex;
  value: number;
  status: DecisionStatus;
  yes: number;
  no: number;
  quorum: number;
  electorate: number;
  deadline: number;
}

function view(p: RegistryProposal): ProposalView {
  const { id, kind, account, value, status: st, yes, no, quorum, electorate, deadline } = p;
  return { id: id.toString(), kind, account, value, status: st, yes, no, quorum, electorate, deadline };
}

async function proposed(registry: RegistryClient, id: bigint): Promise<Outcome> {
  return { proposal: view(await registry.getProposal(id)) };
}

/** A member's proposal; a non-member is told so before anything is sent. */
async function requireMember(registry: RegistryClient, what: string): Promise<void> {
  if (!(await registry.isMember()))
    throw contractError(
      `${what}: ${registry.account} is not a member of ${registry.address} (a member proposes, members vote)`,
      'NotMember',
    );
}

export async function addMember(o: RegistryFlags & { account: Hex }): Promise<Outcome> {
  const { registry } = await openRegistry(o, 'add-member');
  const s = await registry.status();
  if (!s.bootstrapSealed && isAddressEqual(s.owner, registry.account)) {
    await registry.addMembers([o.account]);
    return { added: o.account };
  }
  await requireMember(registry, 'add-member');
  return proposed(registry, await registry.proposeMember(o.account, true));
}

export async function removeMember(o: RegistryFlags & { account: Hex }): Promise<Outcome> {
  const { registry } = await openRegistry(o, 'remove-member');
  await requireMember(registry, 'remove-member');
  return proposed(registry, await registry.proposeMember(o.account, false));
}

export async function propose(o: RegistryFlags & { parameter: ParameterName; value: number }): Promise<Outcome> {
  const { registry } = await openRegistry(o, 'propose');
  await requireMember(registry, 'propose');
  return proposed(registry, await registry.proposeParameter(o.parameter, o.value));
}

export async function vote(o: RegistryFlags & { id: bigint; approve: boolean; batch?: boolean }): Promise<{ id: string; status: string }> {
  const { registry } = await openRegistry(o, 'vote');
  if (o.batch) {
    await registry.vote(o.id, o.approve);
    return { id: o.id.toString(), status: (await registry.getBatch(o.id)).status };
  }
  await registry.voteProposal(o.id, o.approve);
  return { id: o.id.toString(), status: (await registry.getProposal(o.id)).status };
}

/** Decides batches (or proposals) past their deadline, in order; one still open stops it with VotingOpen. */
export async function finalize(o: RegistryFlags & { ids: bigint[]; proposal?: boolean }): Promise<Array<{ id: string; status: string }>> {
  const { registry } = await openRegistry(o, 'finalize');
  const head = await registry.head();
  const out: Array<{ id: string; status: string }> = [];
  for (const id of o.ids) {
    const t = o.proposal ? await registry.getProposal(id) : await registry.getBatch(id);
    if (t.status === 'pending' && head.timestamp < t.deadline)
      throw contractError(
        `finalize ${o.proposal ? 'proposal' : 'batch'} ${id}: VotingOpen until chain time ${t.deadline} (now ${head.timestamp}); vote on it, or finalize after its deadline`,
        'VotingOpen',
      );
    const st = o.proposal ? await registry.finalizeProposal(id) : await registry.finalize(id);
    out.push({ id: id.toString(), status: st });
  }
  return out;
}
