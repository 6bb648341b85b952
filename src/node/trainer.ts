/**
 * DsoTrainer: local learning plus periodic network sync. The model's weights
 * are never touched; what changes is the experience library.
 *
 * Every `syncFrequency` learning steps (and on demand), a sync:
 *  1. consolidates the optimizer's pending proposals into the library;
 *  2. compresses this node's own experiences at or above the acceptance
 *     threshold and submits those not shared before as one batch;
 *  3. votes on the peers' open batches with the voting policy;
 *  4. fetches the batches the registry accepted and merges their
 *     experiences at or above the acceptance threshold into the library, one
 *     atomic batch (near-duplicates fold, capacity holds).
 * Syncs never overlap; stop() waits for the one running.
 */
import type { ActiveSemanticOptimizer, Problem, StepResult } from '../aso/optimizer.js';
import { BitDeltaQuantizer } from '../bitdelta/quantizer.js';
import { DsoError, isDsoError } from '../core/errors.js';
import type { ExperienceLibrary } from '../experience/library.js';
import type { AddOperation } from '../experience/operations.js';
import { isExperienceText } from '../experience/text.js';
import type { NetworkDSOAggregator } from '../network/network-aggregator.js';

export interface TrainerMetrics {
  steps: number;
  syncs: number;
  batchesSubmitted: number;
  batchesAccepted: number;
  batchesRejected: number;
  experiencesMerged: number;
  bytesOut: number;
  bytesIn: number;
}

export interface SyncReport {
  submitted?: { batchId: string; records: number };
  votes: { batchId: string; approve: boolean; reason?: string }[];
  merged: number;
  fetched: number;
  failed: { batchId: string; reason: string }[];
}

export interface TrainerOptions {
  library: ExperienceLibrary;
  optimizer?: ActiveSemanticOptimizer;
  network?: NetworkDSOAggregator;
  /** This node's id (its address): experiences it shares carry it, and its own come back unmerged. */
  nodeId: string;
  syncFrequency?: number;
  acceptanceThreshold?: number;
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
  };
  private readonly quantizer = new BitDeltaQuantizer();
  private readonly shared = new Set<string>();
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
    const report: SyncReport = { votes: [], merged: 0, fetched: 0, failed: [] };
    if (this.o.optimizer && this.o.optimizer.pendingOperations.length > 0) await this.o.optimizer.consolidate();
    const net = this.o.network;
    if (net) {
      const own = this.o.library.list().filter((e) => e.source === 'local' || e.source === this.o.nodeId);
      const fresh = own.filter((e) => !this.shared.has(e.id));
      const records = await this.quantizer.compressForNetwork(fresh, { minConfidence: this.acceptanceThreshold });
      if (records.length > 0) {
        try {
          const sent = await net.submit(records);
          this.metrics.batchesSubmitted++;
          report.submitted = { batchId: sent.batchId.toString(), records: records.length };
        } catch (e) {
          // The same records again have the same root: the registry already holds them.
          if (!(isDsoError(e, 'CONTRACT_REVERTED') && (e as { reason?: string }).reason === 'AlreadySubmitted')) throw e;
        }
        for (const r of records) this.shared.add(r.id);
      }
      for (const v of await net.votePending()) {
        report.votes.push({ batchId: v.batchId.toString(), approve: v.approve, ...(v.reason ? { reason: v.reason } : {}) });
        if (!v.approve) this.metrics.batchesRejected++;
      }
      const got = await net.fetchGlobal();
      report.fetched = got.records.length;
      report.failed = got.failed.map((f) => ({ batchId: f.batchId.toString(), reason: f.reason }));
      this.metrics.batchesAccepted += got.batches;
      this.metrics.bytesIn = net.traffic.bytesIn;
      this.metrics.bytesOut = net.traffic.bytesOut;
      const foreign = got.records.filter(
        (r) => r.source.toLowerCase() !== this.o.nodeId.toLowerCase() && r.confidence >= this.acceptanceThreshold,
      );
      if (foreign.length > 0) {
        const ops: AddOperation[] = foreign.map((r) => ({
          op: 'add',
          text: r.text,
          domain: r.domain,
          confidence: r.confidence,
          source: r.source,
          metadata: { record: r.cid.toString() },
        }));
        // Records the network accepted can still break this library's rules (the text's shape): keep the valid ones.
        const valid = ops.filter((op) => isExperienceText(op.text));
        const applied = await this.o.library.applyOperations(valid);
        report.merged = applied.added.length;
        this.metrics.experiencesMerged += applied.added.length;
        for (const id of applied.outcomes.map((o) => o.id)) if (id) this.shared.add(id);
      }
    }
    this.metrics.syncs++;
    return report;
  }

  /** Waits for a running sync; later syncs are refused. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
    await this.quantizer.close();
  }
}
