/**
 * A reference model of contracts/ExperienceRegistry.sol in plain TypeScript,
 * written from its documented rules (not from its code): the property test
 * runs the same seeded actions against both and compares them after every
 * step. Each action takes the timestamp of the block it would be mined in
 * and returns the contract's error name, or undefined when it succeeds (and
 * only then changes the model).
 */
export type Status = 'pending' | 'accepted' | 'rejected' | 'expired';
export type Kind = 'addMember' | 'removeMember' | 'quorumBps' | 'approvalBps' | 'votingPeriod';
export type Parameter = 'quorumBps' | 'approvalBps' | 'votingPeriod';

export interface ModelTally {
  deadline: number;
  epoch: number;
  electorate: number;
  quorum: number;
  approvalBps: number;
  yes: number;
  no: number;
  status: Status;
  /** Who may not vote again: the creator and every voter. */
  voted: Set<string>;
}

export interface ModelBatch extends ModelTally {
  submitter: string;
  root: string;
}

export interface ModelProposal extends ModelTally {
  kind: Kind;
  account: string;
  value: number;
  proposer: string;
}

const BPS = 10_000;
const MAX_CID = 128;
export const BOUNDS = { quorumBps: [1, 10_000], approvalBps: [5_001, 10_000], votingPeriod: [60, 365 * 24 * 3600] } as const;

const key = (a: string) => a.toLowerCase();

export class RegistryModel {
  owner: string | undefined;
  sealed = false;
  params: Record<Parameter, number>;
  epoch = 0;
  /** Current members, in the contract's list order (swap-and-pop on removal). */
  members: string[] = [];
  /** Each account's seats: [joined, left) in epochs, left undefined while seated. */
  private seats = new Map<string, [number, number | undefined][]>();
  batches: ModelBatch[] = [];
  proposals: ModelProposal[] = [];
  accepted: number[] = [];
  pendingRemovals = 0;
  private open = new Map<string, number>();

  constructor(owner: string, params: Record<Parameter, number>, initial: string[]) {
    this.owner = key(owner);
    this.params = { ...params };
    for (const a of initial) this.addMember(key(a));
  }

  isMember(a: string): boolean {
    return this.members.includes(key(a));
  }

  wasMember(a: string, epoch: number): boolean {
    return (this.seats.get(key(a)) ?? []).some(([from, to]) => from <= epoch && (to === undefined || epoch < to));
  }

  private addMember(a: string): void {
    this.epoch++;
    this.members.push(a);
    const s = this.seats.get(a) ?? [];
    s.push([this.epoch, undefined]);
    this.seats.set(a, s);
  }

  private removeMember(a: string): void {
    this.epoch++;
    const i = this.members.indexOf(a);
    const last = this.members.pop() as string;
    if (i < this.members.length) this.members[i] = last;
    const s = this.seats.get(a) as [number, number | undefined][];
    s[s.length - 1][1] = this.epoch;
  }

  private tally(creator: string, now: number): ModelTally {
    const n = this.members.length;
    return {
      deadline: now + this.params.votingPeriod,
      epoch: this.epoch,
      electorate: n,
      quorum: Math.ceil((n * this.params.quorumBps) / BPS),
      approvalBps: this.params.approvalBps,
      yes: 1,
      no: 0,
      status: 'pending',
      voted: new Set([creator]),
    };
  }

  /** The outcome once the members who have not voted cannot change it. */
  private certain(t: ModelTally): Status {
    const remaining = t.electorate - t.yes - t.no;
    // Accepted even if all the rest vote no; rejected even if all the rest vote yes.
    if (t.yes + t.no >= t.quorum && t.yes * BPS >= t.approvalBps * t.electorate) return 'accepted';
    if ((t.yes + remaining) * BPS < t.approvalBps * t.electorate) return 'rejected';
    return 'pending';
  }

  private atDeadline(t: ModelTally): Status {
    const votes = t.yes + t.no;
    if (votes < t.quorum) return 'expired';
    return t.yes * BPS >= t.approvalBps * votes ? 'accepted' : 'rejected';
  }

  private voteCheck(t: ModelTally, sender: string, now: number): string | undefined {
    if (t.status !== 'pending' || now > t.deadline) return 'VotingClosed';
    if (!this.wasMember(sender, t.epoch)) return this.isMember(sender) ? 'NotEligible' : 'NotMember';
    if (t.voted.has(sender)) return 'AlreadyVoted';
    return undefined;
  }

  private settleBatch(id: number, s: Status): void {
    if (s === 'pending') return;
    const b = this.batches[id];
    b.status = s === 'accepted' ? 'accepted' : 'rejected';
    if (b.status === 'accepted') this.accepted.push(id);
  }

  private settleProposal(id: number, s: Status): void {
    if (s === 'pending') return;
    const p = this.proposals[id];
    p.status = s;
    this.open.delete(p.kind === 'addMember' || p.kind === 'removeMember' ? `m${p.account}` : p.kind);
    if (p.kind === 'removeMember') this.pendingRemovals--;
    if (s !== 'accepted') return;
    if (p.kind === 'addMember') this.addMember(p.account);
    else if (p.kind === 'removeMember') this.removeMember(p.account);
    else this.params[p.kind] = p.value;
  }

  submit(sender: string, root: string, cid: string, count: number, now: number): string | undefined {
    const s = key(sender);
    if (!this.isMember(s)) return 'NotMember';
    if (count === 0 || cid.length === 0) return 'EmptyBatch';
    if (Buffer.byteLength(cid) > MAX_CID) return 'CidTooLong';
    if (this.batches.some((b) => b.submitter === s && b.root === root)) return 'AlreadySubmitted';
    this.batches.push({ ...this.tally(s, now), submitter: s, root });
    this.settleBatch(this.batches.length - 1, this.certain(this.batches[this.batches.length - 1]));
    return undefined;
  }

  vote(sender: string, id: number, approve: boolean, now: number): string | undefined {
    const b = this.batches[id];
    if (!b) return 'UnknownBatch';
    const err = this.voteCheck(b, key(sender), now);
    if (err) return err;
    b.voted.add(key(sender));
    if (approve) b.yes++;
    else b.no++;
    this.settleBatch(id, this.certain(b));
    return undefined;
  }

  finalize(id: number, now: number): string | undefined {
    const b = this.batches[id];
    if (!b) return 'UnknownBatch';
    if (b.status !== 'pending') return 'VotingClosed';
    if (now <= b.deadline) return 'VotingOpen';
    this.settleBatch(id, this.atDeadline(b));
    return undefined;
  }

  proposeMember(sender: string, account: string, add: boolean, now: number): string | undefined {
    const s = key(sender);
    const a = key(account);
    if (!this.isMember(s)) return 'NotMember';
    if (/^0x0+$/u.test(a)) return 'BadParameter';
    if (this.open.has(`m${a}`)) return 'ProposalOpen';
    if (this.isMember(a) === add) return 'NoChange';
    if (!add && this.members.length <= this.pendingRemovals + 1) return 'TooFewMembers';
    if (!add) this.pendingRemovals++;
    return this.propose(s, add ? 'addMember' : 'removeMember', `m${a}`, a, 0, now);
  }

  proposeParameter(sender: string, kind: Kind, value: number, now: number): string | undefined {
    const s = key(sender);
    if (!this.isMember(s)) return 'NotMember';
    if (kind === 'addMember' || kind === 'removeMember') return 'BadParameter';
    const [lo, hi] = BOUNDS[kind];
    if (value < lo || value > hi) return 'BadParameter';
    if (this.open.has(kind)) return 'ProposalOpen';
    if (value === this.params[kind]) return 'NoChange';
    return this.propose(s, kind, kind, '0x0000000000000000000000000000000000000000', value, now);
  }

  private propose(s: string, kind: Kind, openKey: string, account: string, value: number, now: number): undefined {
    const id = this.proposals.length;
    this.proposals.push({ ...this.tally(s, now), kind, account, value, proposer: s });
    this.open.set(openKey, id);
    this.settleProposal(id, this.certain(this.proposals[id]));
    return undefined;
  }

  voteProposal(sender: string, id: number, approve: boolean, now: number): string | undefined {
    const p = this.proposals[id];
    if (!p) return 'UnknownProposal';
    const err = this.voteCheck(p, key(sender), now);
    if (err) return err;
    p.voted.add(key(sender));
    if (approve) p.yes++;
    else p.no++;
    this.settleProposal(id, this.certain(p));
    return undefined;
  }

  finalizeProposal(id: number, now: number): string | undefined {
    const p = this.proposals[id];
    if (!p) return 'UnknownProposal';
    if (p.status !== 'pending') return 'VotingClosed';
    if (now <= p.deadline) return 'VotingOpen';
    this.settleProposal(id, this.atDeadline(p));
    return undefined;
  }

  addMembers(sender: string, accounts: string[]): string | undefined {
    if (key(sender) !== this.owner) return 'NotOwner';
    if (this.sealed) return 'BootstrapOver';
    // All or nothing: the transaction reverts at the first account refused.
    const seen = new Set<string>();
    for (const a of accounts.map(key)) {
      if (this.open.has(`m${a}`)) return 'ProposalOpen';
      if (this.isMember(a) || seen.has(a)) return 'AlreadyMember';
      seen.add(a);
    }
    for (const a of seen) this.addMember(a);
    return undefined;
  }

  seal(sender: string): string | undefined {
    if (key(sender) !== this.owner) return 'NotOwner';
    if (this.sealed) return 'BootstrapOver';
    if (this.members.length === 0) return 'TooFewMembers';
    this.sealed = true;
    return undefined;
  }

  transferOwnership(sender: string, to: string | undefined): string | undefined {
    if (key(sender) !== this.owner) return 'NotOwner';
    this.owner = to === undefined ? undefined : key(to);
    return undefined;
  }
}
