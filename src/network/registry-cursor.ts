/**
 * RegistryCursor: a node's place in the registry's history, kept from its
 * events and robust to rollbacks.
 *
 * sync() reads the registry's events (getLogs over bounded block ranges, so
 * a fresh node catches up in a few calls per thousand blocks instead of one
 * call per batch) up to `confirmations` blocks below the head, and keeps the
 * batches and proposals still open. It remembers the hash of each block it
 * read events from and of the end of each range: when the chain no longer
 * has one of them (a reorg, or a development chain's evm_revert), it goes
 * back to the last block it read that the chain still has, undoes what it
 * learnt after it (reported in `undone`, newest first) and reads on from
 * there. A rollback deeper than `maxRollback` blocks cannot be undone in
 * place: the cursor then starts again from its first block (`restarted`).
 *
 * needingVote() and needingFinalization() answer what this node should do
 * now, by the chain's clock (the latest block's timestamp), never the wall
 * clock: a vote is due while the latest block is before the deadline and the
 * registry says this account may vote; a finalization once it has reached it.
 */
import type { Hex } from 'viem';

import { DsoError } from '../core/errors.js';
import type { ChainHead, RegistryClient, RegistryEvent } from './registry.js';

export interface RegistryCursorOptions {
  /** Blocks an event must be buried under before it is read (default 0: up to the head). */
  confirmations?: number;
  /** Blocks per getLogs request (default 1,000). */
  pageBlocks?: number;
  /** First block to read (default: the block the registry was deployed in). */
  fromBlock?: bigint;
  /** Depth of rollback undone in place (blocks, default 256); a deeper one restarts from fromBlock. */
  maxRollback?: number;
}

type Submitted = Extract<RegistryEvent, { type: 'BatchSubmitted' }>;
type Created = Extract<RegistryEvent, { type: 'ProposalCreated' }>;

type Position = 'type' | 'block' | 'blockHash' | 'logIndex' | 'transaction';
/** A batch as its BatchSubmitted event told it. */
export type OpenBatch = Omit<Submitted, Position>;
/** A proposal as its ProposalCreated event told it. */
export type OpenProposal = Omit<Created, Position>;

/** Ranges read again because the chain changed under the query, before sync() gives up with CHAIN_ERROR. */
const MAX_REREADS = 8;

export interface RegistryChanges {
  /** Every event read this time, in chain order. */
  events: RegistryEvent[];
  /** Events a rollback took back, newest first (an undone BatchAccepted: drop what was merged from it). */
  undone: RegistryEvent[];
  /** Set when a rollback was found: the block the cursor went back to. */
  rolledBackTo?: bigint;
  /** The rollback was deeper than maxRollback: everything was read again from the first block. */
  restarted: boolean;
  /** Batches accepted in the events read, in order of acceptance, as their submission told them. */
  accepted: OpenBatch[];
  /** The block read up to. */
  block: bigint;
}

interface Checkpoint {
  number: bigint;
  hash: Hex;
}

interface Entry {
  event: RegistryEvent;
  undo: () => void;
}

export class RegistryCursor {
  private readonly confirmations: number;
  private readonly pageBlocks: bigint;
  private readonly maxRollback: bigint;
  private start: bigint | undefined;
  /** Blocks read (ascending, canonical when read): where events were, and where each range ended. */
  private checkpoints: Checkpoint[] = [];
  /** What can still be undone (events in blocks after the oldest checkpoint), oldest first. */
  private journal: Entry[] = [];
  private readonly batches = new Map<bigint, OpenBatch>();
  private readonly proposals = new Map<bigint, OpenProposal>();
  /** Open decisions this account cannot vote on (voted, or not in the snapshot): asked once. */
  private readonly noVote = new Set<string>();
  private lastHead: ChainHead | undefined;
  private running: Promise<RegistryChanges> | undefined;

  constructor(
    private readonly registry: RegistryClient,
    opts: RegistryCursorOptions = {},
  ) {
    const whole = (v: number, name: string, min: number) => {
      if (!Number.isSafeInteger(v) || v < min) throw new DsoError('INVALID_ARGUMENT', `${name} must be an integer >= ${min}, got ${v}`);
      return v;
    };
    this.confirmations = whole(opts.confirmations ?? 0, 'confirmations', 0);
    this.pageBlocks = BigInt(whole(opts.pageBlocks ?? 1000, 'pageBlocks', 1));
    this.maxRollback = BigInt(whole(opts.maxRollback ?? 256, 'maxRollback', 1));
    this.start = opts.fromBlock;
  }

  /** The last block read, with its hash; undefined before the first sync. */
  get position(): Checkpoint | undefined {
    return this.checkpoints.at(-1);
  }

  /** The head seen by the last sync: its timestamp is the chain time deadlines were compared with. */
  get head(): ChainHead | undefined {
    return this.lastHead;
  }

  /** Batches submitted and not decided, as of the last block read. */
  openBatches(): OpenBatch[] {
    return [...this.batches.values()];
  }

  openProposals(): OpenProposal[] {
    return [...this.proposals.values()];
  }

  /** Reads what happened since the last call (joins a call already running). */
  sync(): Promise<RegistryChanges> {
    this.running ??= this.read().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async read(): Promise<RegistryChanges> {
    const start = (this.start ??= await this.registry.deployedAt());
    const head = await this.registry.head();
    this.lastHead = head;
    const out: RegistryChanges = { events: [], undone: [], restarted: false, accepted: [], block: start - 1n };
    await this.checkRollback(out);
    const target = head.number - BigInt(this.confirmations);
    let from = (this.position?.number ?? start - 1n) + 1n;
    let rereads = 0;
    while (from <= target) {
      const to = from + this.pageBlocks - 1n < target ? from + this.pageBlocks - 1n : target;
      const before = await this.registry.block(to);
      const events = await this.registry.eventsIn(from, to);
      const after = await this.registry.block(to);
      // The range's last block unchanged across the query: the events all come from the chain that ends in it.
      if (!before || !after || before.hash !== after.hash || events.some((e) => e.block === to && e.blockHash !== after.hash)) {
        if (++rereads > MAX_REREADS) throw new DsoError('CHAIN_ERROR', `blocks ${from}-${to} kept changing while being read`);
        await this.checkRollback(out);
        from = (this.position?.number ?? start - 1n) + 1n;
        continue;
      }
      for (const e of events) {
        if (e.type === 'BatchAccepted') out.accepted.push(this.batches.get(e.id) ?? (await this.submission(e.id)));
        this.apply(e);
        out.events.push(e);
        if (this.checkpoints.at(-1)?.number !== e.block) this.checkpoints.push({ number: e.block, hash: e.blockHash });
      }
      if (this.checkpoints.at(-1)?.number !== to) this.checkpoints.push({ number: to, hash: after.hash });
      this.prune();
      from = to + 1n;
    }
    out.block = this.position?.number ?? start - 1n;
    return out;
  }

  /** Goes back to the last checkpoint the chain still has, undoing what came after; restarts if none is left. */
  private async checkRollback(out: RegistryChanges): Promise<void> {
    const newest = this.checkpoints.at(-1);
    if (!newest || (await this.canonical(newest))) return;
    // Checkpoints form one chain: once one is gone, every later one is too. Find the last one still there.
    let lo = 0;
    let hi = this.checkpoints.length - 1; // known gone
    if (!(await this.canonical(this.checkpoints[0]))) hi = 0;
    while (lo < hi - 1) {
      const mid = (lo + hi) >> 1;
      if (await this.canonical(this.checkpoints[mid])) lo = mid;
      else hi = mid;
    }
    if (hi === 0) {
      // Deeper than anything kept: forget it all and read again from the start.
      for (let i = this.journal.length - 1; i >= 0; i--) out.undone.push(this.journal[i].event);
      this.journal = [];
      this.checkpoints = [];
      this.batches.clear();
      this.proposals.clear();
      this.noVote.clear();
      out.restarted = true;
      out.rolledBackTo = (this.start ?? 0n) - 1n;
      return;
    }
    const common = this.checkpoints[lo];
    this.checkpoints = this.checkpoints.slice(0, lo + 1);
    while (this.journal.length > 0 && (this.journal.at(-1) as Entry).event.block > common.number) {
      const entry = this.journal.pop() as Entry;
      entry.undo();
      out.undone.push(entry.event);
    }
    // A batch id can name another batch on the new chain: what this account may vote on is asked again.
    this.noVote.clear();
    out.rolledBackTo = common.number;
  }

  private async canonical(c: Checkpoint): Promise<boolean> {
    return (await this.registry.block(c.number))?.hash === c.hash;
  }

  private apply(e: RegistryEvent): void {
    let undo = () => undefined as void;
    if (e.type === 'BatchSubmitted') {
      const batch: OpenBatch = { id: e.id, root: e.root, submitter: e.submitter, cid: e.cid, count: e.count, deadline: e.deadline };
      this.batches.set(e.id, batch);
      undo = () => void this.batches.delete(e.id);
    } else if (e.type === 'BatchAccepted' || e.type === 'BatchRejected') {
      const was = this.batches.get(e.id);
      this.batches.delete(e.id);
      if (was) undo = () => void this.batches.set(e.id, was);
    } else if (e.type === 'ProposalCreated') {
      const proposal: OpenProposal = {
        id: e.id,
        proposer: e.proposer,
        kind: e.kind,
        account: e.account,
        value: e.value,
        deadline: e.deadline,
      };
      this.proposals.set(e.id, proposal);
      undo = () => void this.proposals.delete(e.id);
    } else if (e.type === 'ProposalAccepted' || e.type === 'ProposalRejected' || e.type === 'ProposalExpired') {
      const was = this.proposals.get(e.id);
      this.proposals.delete(e.id);
      if (was) undo = () => void this.proposals.set(e.id, was);
    }
    this.journal.push({ event: e, undo });
  }

  /** Keeps checkpoints within maxRollback blocks of the newest, and what can still be undone to them. */
  private prune(): void {
    const newest = this.checkpoints.at(-1);
    if (!newest) return;
    const keepFrom = this.checkpoints.findIndex((c) => c.number + this.maxRollback >= newest.number);
    if (keepFrom > 0) this.checkpoints = this.checkpoints.slice(keepFrom);
    const oldest = this.checkpoints[0].number;
    const drop = this.journal.findIndex((j) => j.event.block > oldest);
    this.journal = drop < 0 ? [] : this.journal.slice(drop);
  }

  /** A batch submitted before the first block read: asked from the registry. */
  private async submission(id: bigint): Promise<OpenBatch> {
    const b = await this.registry.getBatch(id);
    return {
      id,
      root: b.root,
      submitter: b.submitter,
      cid: b.cid,
      count: b.count,
      deadline: b.deadline,
    };
  }

  /**
   * Open batches and proposals this account should vote on now: before their
   * deadline by the chain's clock, and allowed by the registry (in the
   * snapshot, not voted yet). One read per open decision not ruled out before.
   */
  async needingVote(): Promise<{ batches: OpenBatch[]; proposals: OpenProposal[] }> {
    const head = await this.registry.head();
    this.lastHead = head;
    const ask = async <T extends { id: bigint; deadline: number }>(list: T[], kind: string, can: (id: bigint) => Promise<boolean>) => {
      const due: T[] = [];
      for (const x of list) {
        const key = `${kind}${x.id}`;
        if (head.timestamp >= x.deadline || this.noVote.has(key)) continue;
        if (await can(x.id)) due.push(x);
        else this.noVote.add(key);
      }
      return due;
    };
    return {
      batches: await ask(this.openBatches(), 'b', (id) => this.registry.canVote(id)),
      proposals: await ask(this.openProposals(), 'p', (id) => this.registry.canVoteProposal(id)),
    };
  }

  /** Open batches and proposals whose deadline the chain's clock has reached: anyone may finalize them. */
  async needingFinalization(): Promise<{ batches: OpenBatch[]; proposals: OpenProposal[] }> {
    const head = await this.registry.head();
    this.lastHead = head;
    return {
      batches: this.openBatches().filter((b) => head.timestamp >= b.deadline),
      proposals: this.openProposals().filter((p) => head.timestamp >= p.deadline),
    };
  }
}
