/**
 * DsoTrainer: local learning plus periodic network sync. The model's weights
 * are never touched; what changes is the experience library.
 *
 * Every `syncFrequency` learning steps (and on demand), a sync:
 *  1. consolidates the optimizer's pending proposals into the library;
 *  2. checks this account's standing: a member with funds submits and
 *     votes; any node, member or not, finalizes and fetches;
 *  3. compresses this node's own experiences at or above the acceptance
 *     threshold and submits those not registered yet as one batch;
 *  4. runs a round against the registry (NetworkDSOAggregator.advance:
 *     votes, finalizations, accepted batches fetched);
 *  5. merges what the accepted batches carry through the robust merge
 *     (robust-merge.ts) into the library, one atomic batch (near-duplicates
 *     fold, capacity holds).
 * A step that fails is reported (SyncReport.failures, the metrics, the
 * node's /status) and tried again at the next sync; it never aborts the
 * others. Syncs never overlap; stop() waits for the one running.
 */
import type { ActiveSemanticOptimizer, Problem, StepResult } from '../aso/optimizer.js';
import { BitDeltaQuantizer } from '../bitdelta/quantizer.js';
import { describeError, DsoError, isDsoError } from '../core/errors.js';
import type { ExperienceLibrary } from '../experience/library.js';
import type { AddOperation } from '../experience/operations.js';
import { isExperienceText } from '../experience/text.js';
import type { NetworkDSOAggregator, RoundFailure } from '../network/network-aggregator.js';
import { RobustMerge } from '../network/robust-merge.js';

export interface TrainerMetrics {
  steps: number;
  syncs: number;
  batchesSubmitted: number;
  batchesAccepted: number;
  batchesRejected: number;
  experiencesMerged: number;
  bytesOut: number;
  bytesIn: number;
  votesCast: number;
  batchesFinalized: number;
  /** Steps of syncs that failed (each is tried again at the next sync). */
  syncFailures: number;
  /** Experiences of accepted batches that the robust merge left out. */
  experiencesRefused: number;
}

/** This account on the registry, as the last sync saw it. */
export interface Standing {
  account: string;
  member: boolean;
  /** Wei, as a decimal string. */
  balance: string;
  /** What the operator should do, when the node cannot take part fully. */
  advice?: string;
}

export interface SyncReport {
  standing?: Standing;
  submitted?: { batchId: string; records: number };
  votes: { batchId: string; approve: boolean; reason?: string }[];
  finalized: { batchId: string; status: string }[];
  merged: number;
  fetched: number;
  refused: number;
  failures: { stage: string; batchId?: string; reason: string; retry: boolean }[];
}

export interface TrainerOptions {
  library: ExperienceLibrary;
  optimizer?: ActiveSemanticOptimizer;
  network?: NetworkDSOAggregator;
  /** This node's id (its address): experiences it shares carry it, and its own come back unmerged. */
  nodeId: string;
  syncFrequency?: number;
  acceptanceThreshold?: number;
  /** Merge experiences at or above this median confidence x share of endorsing members; absent: merge every accepted record (no robust aggregation). */
  votingThreshold?: number;
  /** Told each failed step once, as one line. */
  log?: (line: string) => void;
}

export class DsoTrainer {
  readonly metrics: TrainerMetrics = {
    steps: 0,
    syncs: 0,
    batchesSubmitted: 0,
    batchesAccepted: 0,
    batchesRejected: 0,
    experiencesMerged: 0,
    bytesOut: 0,
    bytesIn: 0,
    votesCast: 0,
    batchesFinalized: 0,
    syncFailures: 0,
    experiencesRefused: 0,
  };
  private readonly quantizer = new BitDeltaQuantizer();
  private readonly merger = new RobustMerge();
  private readonly shared = new Set<string>();
  /** The last sync's report: /status shows it. */
  last: (SyncReport & { at: string }) | undefined;
  /** This account's standing as last asked (at start and at every sync). */
  lastStanding: Standing | undefined;
  private running: Promise<SyncReport> | undefined;
  private stopped = false;
  readonly syncFrequency: number;
  readonly acceptanceThreshold: number;

  constructor(private readonly o: TrainerOptions) {
    this.syncFrequency = o.syncFrequency ?? 100;
    this.acceptanceThreshold = o.acceptanceThreshold ?? 0.7;
  }

  private optimizer(): ActiveSemanticOptimizer {
    if (!this.o.optimizer)
      throw new DsoError('BACKEND_UNAVAILABLE', 'no chat model is configured, so this node cannot learn from problems');
    return this.o.optimizer;
  }

  /** One learning step on a problem; syncs when the step count reaches a multiple of syncFrequency. */
  async step(problem: Problem): Promise<StepResult> {
    return this.after(await this.optimizer().step(problem));
  }

  /** Learns from rollouts the agent ran itself. */
  async reportRollouts(problem: Problem & { responses: string[]; experiencesUsed?: string[] }): Promise<StepResult> {
    return this.after(await this.optimizer().learnFromRollouts(problem));
  }

  private async after(r: StepResult): Promise<StepResult> {
    this.metrics.steps++;
    if (this.metrics.steps % this.syncFrequency === 0) await this.sync();
    return r;
  }

  /** Runs a sync now, or joins the one already running. */
  sync(): Promise<SyncReport> {
    if (this.stopped) return Promise.reject(new DsoError('LIBRARY_CLOSED', 'the trainer is stopped'));
    this.running ??= this.runSync().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runSync(): Promise<SyncReport> {
    const report: SyncReport = { votes: [], finalized: [], merged: 0, fetched: 0, refused: 0, failures: [] };
    if (this.o.optimizer && this.o.optimizer.pendingOperations.length > 0) await this.o.optimizer.consolidate();
    const net = this.o.network;
    if (net) {
      const fail = (f: RoundFailure) => {
        report.failures.push({
          stage: f.stage,
          ...(f.batchId === undefined ? {} : { batchId: f.batchId.toString() }),
          reason: f.reason,
          retry: f.retry,
        });
        this.o.log?.(
          `sync: ${f.stage}${f.batchId === undefined ? '' : ` batch ${f.batchId}`} failed${f.retry ? ' (tried again next sync)' : ''}: ${f.reason}`,
        );
      };
      const standing = await this.standing(net).catch((e: unknown) => {
        fail({ stage: 'chain', reason: describeError(e), retry: true });
        return undefined;
      });
      if (standing) report.standing = standing;
      if (standing?.member && standing.balance !== '0') await this.submitOwn(net, report, fail);
      const round = await net.advance({ member: standing?.member === true && standing.balance !== '0' });
      for (const v of round.votes)
        report.votes.push({ batchId: v.batchId.toString(), approve: v.approve, ...(v.reason ? { reason: v.reason } : {}) });
      for (const f of round.finalized) report.finalized.push({ batchId: f.batchId.toString(), status: f.status });
      for (const f of round.failures) fail(f);
      this.metrics.votesCast += round.votes.length;
      this.metrics.batchesRejected += round.votes.filter((v) => !v.approve).length;
      this.metrics.batchesFinalized += round.finalized.length;
      this.metrics.batchesAccepted += round.accepted.length;
      report.fetched = round.accepted.reduce((n, b) => n + b.records.length, 0);
      try {
        await this.merge(net, round.accepted, report, standing?.account ?? this.o.nodeId);
      } catch (e) {
        fail({ stage: 'merge', reason: describeError(e), retry: false });
      }
      this.metrics.bytesIn = net.traffic.bytesIn;
      this.metrics.bytesOut = net.traffic.bytesOut;
      this.metrics.syncFailures += report.failures.length;
    }
    this.metrics.syncs++;
    this.last = { ...report, at: new Date().toISOString() };
    return report;
  }

  /** This account's standing on the registry, asked now (undefined without a network); /status shows the last answer. */
  async checkStanding(): Promise<Standing | undefined> {
    if (!this.o.network) return undefined;
    return this.standing(this.o.network);
  }

  private async standing(net: NetworkDSOAggregator): Promise<Standing> {
    const account = net.registry.account;
    const [member, balance] = await Promise.all([net.registry.isMember(account), net.registry.balance(account)]);
    const advice = !member
      ? `account ${account} is not a member of registry ${net.registry.address}: it fetches and merges what the network accepted, but cannot submit or vote; a member adds it with \`dso registry add-member ${account}\``
      : balance === 0n
        ? `account ${account} has no funds on the chain to pay for its transactions: send it some`
        : undefined;
    this.lastStanding = { account, member, balance: balance.toString(), ...(advice ? { advice } : {}) };
    return this.lastStanding;
  }

  /** Own experiences not registered yet, as one batch; they count as shared only once the registry holds them. */
  private async submitOwn(net: NetworkDSOAggregator, report: SyncReport, fail: (f: RoundFailure) => void): Promise<void> {
    const own = this.o.library.list().filter((e) => e.source === 'local' || e.source === this.o.nodeId);
    const fresh = own.filter((e) => !this.shared.has(e.id));
    const records = await this.quantizer.compressForNetwork(fresh, { minConfidence: this.acceptanceThreshold });
    if (records.length === 0) return;
    try {
      const sent = await net.submit(records);
      this.metrics.batchesSubmitted++;
      report.submitted = { batchId: sent.batchId.toString(), records: records.length };
    } catch (e) {
      // The same records again have the same root: the registry already holds them.
      if (!(isDsoError(e, 'CONTRACT_REVERTED') && (e as { reason?: string }).reason === 'AlreadySubmitted')) {
        fail({ stage: 'submit', reason: describeError(e), retry: true });
        return;
      }
    }
    for (const r of records) this.shared.add(r.id);
  }

  private async merge(
    net: NetworkDSOAggregator,
    accepted: Parameters<RobustMerge['plan']>[0],
    report: SyncReport,
    self: string,
  ): Promise<void> {
    if (accepted.length === 0) return;
    const plan = await this.merger.plan(accepted, {
      self: self as `0x${string}`,
      members: await net.registry.memberCount(),
      minConfidence: this.acceptanceThreshold,
      ...(this.o.votingThreshold === undefined ? {} : { votingThreshold: this.o.votingThreshold }),
    });
    report.refused = plan.refused.length;
    this.metrics.experiencesRefused += plan.refused.length;
    // Records the network accepted can still break this library's rules (the text's shape): keep the valid ones.
    const ops: AddOperation[] = plan.merge
      .filter((c) => isExperienceText(c.record.text))
      .map((c) => ({
        op: 'add',
        text: c.record.text,
        domain: c.record.domain,
        confidence: c.confidence,
        source: c.record.source,
        metadata: { record: c.record.cid.toString(), endorsers: c.endorsers.length, score: c.score },
      }));
    if (ops.length === 0) return;
    const applied = await this.o.library.applyOperations(ops);
    report.merged = applied.added.length;
    this.metrics.experiencesMerged += applied.added.length;
    for (const id of applied.outcomes.map((o) => o.id)) if (id) this.shared.add(id);
  }

  /** Waits for a running sync; later syncs are refused. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
    await this.quantizer.close();
    await this.merger.close();
  }
}
