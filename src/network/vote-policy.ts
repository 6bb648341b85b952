/**
 * How a node votes on a batch that verified (signature, blocks, manifest,
 * Merkle root, decoding). Verification proves who sent what; the policy asks
 * whether what was sent is worth the network's libraries:
 *  - every record is a well-formed experience (text shape and byte caps);
 *  - each record's code is the code of its own text: the node embeds the
 *    texts with its embedder and compares signs. Flipped or random signs
 *    attached to an honest-looking text differ in about half (random) or
 *    nearly all (flipped) bits, where the same embedder differs in none
 *    (hashing) or a few (a model on another backend). A network agrees on one
 *    embedder; a record embedded with another dimension is refused;
 *  - the batch is not a flood of near-duplicates: its records, grouped as the
 *    merge groups them (SemanticAggregator: content id, close codes and
 *    shared words), leave at most `maxNearDuplicateShare` of them repeats.
 * The first failing rule is the reason given for the "no".
 */
import { SemanticAggregator } from '../aggregate/semantic.js';
import { BitDeltaQuantizer } from '../bitdelta/quantizer.js';
import type { Engine } from '../engine/types.js';
import type { Embedder } from '../experience/embedders/embedder.js';
import { isExperienceText } from '../experience/text.js';
import { codeDistance } from '../simd/reference/hamming.js';
import type { OpenedRecord } from './batch.js';

export interface PolicyBatch {
  records: readonly OpenedRecord[];
}

export interface VoteDecision {
  approve: boolean;
  /** Why a batch was voted down. */
  reason?: string;
}

/** Decides a vote on a batch that verified. */
export type VotePolicy = (batch: PolicyBatch) => VoteDecision | Promise<VoteDecision>;

/** Approves batches whose every record is a well-formed experience. */
export const shapeVotePolicy: VotePolicy = (b) => {
  const bad = b.records.findIndex((r) => !isExperienceText(r.text));
  return bad < 0 ? { approve: true } : { approve: false, reason: `record ${bad} is not a well-formed experience` };
};

export interface RobustPolicyOptions {
  /** The node's embedder: codes are checked against it. */
  embedder: Embedder;
  engine?: Engine;
  /** A record's code may differ from the node's code of its text in at most this share of bits (default 0.25). */
  maxCodeDistance?: number;
  /** At most this share of a batch's records may be near-duplicates of others in it (default 0.2). */
  maxNearDuplicateShare?: number;
}

export interface RobustVotePolicy {
  policy: VotePolicy;
  close(): Promise<void>;
}

/** The shape rule, then the code check, then the flood check. */
export function robustVotePolicy(o: RobustPolicyOptions): RobustVotePolicy {
  const quantizer = new BitDeltaQuantizer({ engine: o.engine });
  const aggregator = new SemanticAggregator({ engine: o.engine });
  const maxDistance = o.maxCodeDistance ?? 0.25;
  const maxRepeats = o.maxNearDuplicateShare ?? 0.2;
  const policy: VotePolicy = async (b) => {
    const shape = await shapeVotePolicy(b);
    if (!shape.approve || b.records.length === 0) return shape;
    const dim = o.embedder.dim;
    const other = b.records.findIndex((r) => r.dim !== dim);
    if (other >= 0)
      return { approve: false, reason: `record ${other} has ${b.records[other].dim} dims; this network's embedder has ${dim}` };
    const vectors = await o.embedder.embed(b.records.map((r) => r.text));
    const { code } = await quantizer.quantizeDelta(vectors, { dim });
    const bpr = code.length / b.records.length;
    for (let i = 0; i < b.records.length; i++) {
      const d = codeDistance(code.subarray(i * bpr, (i + 1) * bpr), b.records[i].code) / dim;
      if (d > maxDistance)
        return { approve: false, reason: `record ${i}'s code differs from its text's in ${(d * 100).toFixed(0)}% of bits` };
    }
    const { accepted } = await aggregator.aggregateExperiences(new Map([['batch', b.records]]), { votingThreshold: 0 });
    const repeats = 1 - accepted.length / b.records.length;
    if (repeats > maxRepeats)
      return { approve: false, reason: `${(repeats * 100).toFixed(0)}% of the records are near-duplicates of others in the batch` };
    return { approve: true };
  };
  return {
    policy,
    close: async () => {
      await quantizer.close();
      await aggregator.close();
    },
  };
}
