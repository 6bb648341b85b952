/**
 * What a node merges from the batches the registry accepted: the same robust
 * aggregation `dso simulate` and `dso experiment` run (SemanticAggregator),
 * with the chain's votes as the reports.
 *
 * A member that voted yes on a batch has fetched, verified and checked it
 * (vote-policy.ts), so each accepted batch is reported by its endorsers: its
 * submitter and its yes-voters. Reports of one experience (same content id,
 * or near-duplicates) from several batches are grouped, each member counts
 * once, confidence is the median of the reports, support is the share of all
 * members that endorsed it, and an experience is merged when confidence x
 * support reaches `votingThreshold`. A batch that a colluding minority pushed
 * through still carries only that minority's support; its records' codes are
 * the robust majority of the reports (DeltaSoup for the scales), and a report
 * whose code is an outlier is named.
 */
import { getAddress, type Hex } from 'viem';

import { type AggregatedExperience, type ReportedExperience, SemanticAggregator } from '../aggregate/semantic.js';
import type { Engine } from '../engine/types.js';
import { experienceId } from '../experience/content-id.js';
import type { OpenedRecord } from './batch.js';
import type { AcceptedBatch } from './network-aggregator.js';

export interface MergeOptions {
  /** This node's account: its own records come back from the network and are not merged again. */
  self: Hex;
  /** Members of the registry now: the denominator of support. */
  members: number;
  /** Records below this confidence are not merged (the node's acceptanceThreshold). */
  minConfidence: number;
  /** Merge at or above this confidence x support; absent: every record of an accepted batch (no robust aggregation). */
  votingThreshold?: number;
}

export interface MergeCandidate {
  /** The record that speaks for the experience (its text, domain and original source). */
  record: OpenedRecord;
  confidence: number;
  /** Confidence x support, or the confidence alone without robust aggregation. */
  score: number;
  endorsers: string[];
}

export interface MergePlan {
  merge: MergeCandidate[];
  /** Experiences below the threshold, with their scores. */
  refused: { id: string; text: string; score: number; endorsers: string[] }[];
}

export class RobustMerge {
  private readonly aggregator: SemanticAggregator;

  constructor(opts: { engine?: Engine } = {}) {
    this.aggregator = new SemanticAggregator(opts);
  }

  async plan(batches: readonly AcceptedBatch[], o: MergeOptions): Promise<MergePlan> {
    const self = getAddress(o.self);
    const foreign = (r: OpenedRecord) => getAddress(r.source) !== self && r.confidence >= o.minConfidence;
    if (o.votingThreshold === undefined) {
      const merge = batches.flatMap((b) =>
        b.records
          .filter(foreign)
          .map((record) => ({ record, confidence: record.confidence, score: record.confidence, endorsers: b.endorsers })),
      );
      return { merge, refused: [] };
    }
    const reports = new Map<string, ReportedExperience[]>();
    const byId = new Map<string, OpenedRecord>();
    for (const b of batches) {
      const records = b.records.filter(foreign);
      for (const r of records) {
        const id = experienceId(r.text, r.domain);
        if (!byId.has(id)) byId.set(id, r);
      }
      for (const e of b.endorsers) {
        const list = reports.get(e) ?? [];
        list.push(...records);
        reports.set(e, list);
      }
    }
    if (byId.size === 0) return { merge: [], refused: [] };
    // Membership may have shrunk since a batch was endorsed: support never exceeds 1.
    const totalNodes = Math.max(o.members, reports.size);
    const { accepted, rejected } = await this.aggregator.aggregateExperiences(reports, { votingThreshold: o.votingThreshold, totalNodes });
    const candidate = (a: AggregatedExperience): MergeCandidate => ({
      record: byId.get(a.id) as OpenedRecord,
      confidence: a.confidence,
      score: a.score,
      endorsers: a.reporters,
    });
    return {
      merge: accepted.filter((a) => byId.has(a.id)).map(candidate),
      refused: rejected.map((a) => ({ id: a.id, text: a.text, score: a.score, endorsers: a.reporters })),
    };
  }

  async close(): Promise<void> {
    await this.aggregator.close();
  }
}
