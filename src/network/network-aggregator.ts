/**
 * NetworkDSOAggregator: a node's view of the shared experience pool.
 *
 * submit(): store the records, build and sign the batch, register it on the
 * chain (root, announcement CID, count) and announce it by gossip; the
 * registration is the submitter's yes.
 * advance(): one round against the registry, each step independent of the
 * others' failures:
 *  1. read the registry's events since the last round (RegistryCursor);
 *  2. vote (members only) on every open batch this account may vote on:
 *     fetch and verify it (signature, every block's hash, manifest, root,
 *     decoding), then ask the vote policy. A batch that fails verification
 *     is voted down with the reason kept; one that cannot be fetched now
 *     (peers gone or slow) and a vote that fails to land (revert, RPC error,
 *     timeout) are tried again next round, never skipped;
 *  3. finalize every batch past its deadline, so every batch is decided
 *     without anyone's manual step;
 *  4. fetch the batches accepted since the last round, with the members that
 *     endorsed each (its submitter and its yes-voters); one that cannot be
 *     fetched now stays queued.
 * Blocks are kept only once their whole batch has verified, and then served
 * to other peers.
 */
import * as dagCbor from '@ipld/dag-cbor';
import type { CID } from 'multiformats/cid';
import { CID as CIDClass } from 'multiformats/cid';
import { getAddress, type Hex } from 'viem';

import type { CompressedExperience } from '../bitdelta/record.js';
import { MAX_RECORD_BYTES } from '../bitdelta/wire.js';
import { describeError, DsoError } from '../core/errors.js';
import { type BatchAnnouncement, buildBatch, decodeEnvelope, encodeEnvelope, openBatch, type OpenedRecord } from './batch.js';
import { cidOfBlock, type ContentStore, verifyBlock } from './content-store.js';
import type { NodeIdentity } from './identity.js';
import type { P2PNode } from './p2p-node.js';
import type { RegisteredBatch, RegistryClient } from './registry.js';
import { type OpenBatch, RegistryCursor } from './registry-cursor.js';
import { ReplayGuard } from './replay-guard.js';
import { shapeVotePolicy, type VotePolicy } from './vote-policy.js';

export interface VerifiedBatch {
  batchId: bigint;
  announcement: BatchAnnouncement;
  records: OpenedRecord[];
  /** Bytes fetched from peers to verify it (0 when every block was already here). */
  bytesIn: number;
}

export interface VoteOutcome {
  batchId: bigint;
  approve: boolean;
  /** Why the batch was voted down: it did not verify, or the policy's reason. */
  reason?: string;
}

/** A batch the registry accepted, verified, with the members that endorsed it. */
export interface AcceptedBatch extends VerifiedBatch {
  submitter: Hex;
  /** The submitter and every member that voted yes. */
  endorsers: Hex[];
}

/** A step of a round that did not complete; `retry`: it is tried again next round. */
export interface RoundFailure {
  stage: 'chain' | 'fetch' | 'vote' | 'finalize' | 'submit' | 'merge';
  batchId?: bigint;
  reason: string;
  retry: boolean;
}

export interface Round {
  votes: VoteOutcome[];
  finalized: { batchId: bigint; status: string }[];
  accepted: AcceptedBatch[];
  failures: RoundFailure[];
}

/** What is waiting on this node, for /status. */
export interface PendingWork {
  /** Open batches known from the chain (not decided yet). */
  open: number;
  /** Accepted batches not fetched yet. */
  toFetch: number;
}

/**
 * Errors that say nothing about the batch, only about now: the peers that
 * hold it are gone, slow, busy or sent something else, or the chain did not
 * answer. Anything else (a bad signature, root, manifest or record) is the
 * batch's own fault.
 */
const TRANSIENT = new Set(['PEER_TIMEOUT', 'PEER_LIMIT', 'IO_ERROR', 'CID_MISMATCH', 'TOO_LARGE', 'CHAIN_ERROR']);

export interface NetworkAggregatorOptions {
  identity: NodeIdentity;
  registry: RegistryClient;
  store: ContentStore;
  p2p: P2PNode;
  network: string;
  chainId: number;
  votePolicy?: VotePolicy;
  maxRecords?: number;
  /** What was accepted before; default: one in memory (a node passes one kept in its data dir, so replays stay refused across restarts). */
  replayGuard?: ReplayGuard;
  /** Blocks a registry event must be buried under before this node acts on it (default 0). */
  confirmations?: number;
  /**
   * Rounds in which a batch to vote on may be unavailable (no peer sent its
   * blocks in time) before it is voted down for it (default 3): churn among
   * honest peers gets a second chance, a submitter that never serves its
   * data does not get a yes.
   */
  fetchTries?: number;
}

export class NetworkDSOAggregator {
  private readonly guard: ReplayGuard;
  private readonly cursor: RegistryCursor;
  /** Accepted batches not fetched yet, by id. */
  private readonly toFetch = new Map<bigint, OpenBatch>();
  private readonly voted = new Set<bigint>();
  /** Rounds each open batch has been unavailable so far. */
  private readonly unavailable = new Map<bigint, number>();
  /** Bytes published for peers (submit) and fetched from them (verification), since start. */
  readonly traffic = { bytesOut: 0, bytesIn: 0 };

  constructor(private readonly o: NetworkAggregatorOptions) {
    this.guard = o.replayGuard ?? new ReplayGuard();
    this.cursor = new RegistryCursor(o.registry, { confirmations: o.confirmations ?? 0 });
  }

  get registry(): RegistryClient {
    return this.o.registry;
  }

  pending(): PendingWork {
    return { open: this.cursor.openBatches().length, toFetch: this.toFetch.size };
  }

  /** `bytes`: what the batch puts on the network (records, manifest, announcement) for peers to fetch. */
  async submit(
    records: readonly CompressedExperience[],
  ): Promise<{ batchId: bigint; announcement: BatchAnnouncement; envelope: CID; bytes: number }> {
    const batch = await buildBatch(records, {
      identity: this.o.identity,
      network: this.o.network,
      chainId: this.o.chainId,
      registry: this.o.registry.address,
      maxRecords: this.o.maxRecords,
    });
    const envelope = encodeEnvelope(batch.announcement);
    for (const r of batch.records) await this.o.store.putVerified(r.cid, r.bytes);
    await this.o.store.putVerified(batch.manifest.cid, batch.manifest.bytes);
    const envelopeCid = await this.o.store.put(envelope);
    const batchId = await this.o.registry.submitBatch(batch.announcement.root, envelopeCid.toString(), batch.announcement.count);
    this.voted.add(batchId);
    this.guard.accept(batch.announcement);
    await this.o.p2p.publish(envelope);
    const bytes = batch.records.reduce((n, r) => n + r.bytes.byteLength, 0) + batch.manifest.bytes.byteLength + envelope.byteLength;
    this.traffic.bytesOut += bytes;
    return { batchId, announcement: batch.announcement, envelope: envelopeCid, bytes };
  }

  /**
   * A block from the local store, else from peers (verified against its CID).
   * `skip` holds the peers that already failed this batch: a peer that
   * stalled once is not waited on again for each of its blocks.
   */
  private async block(cid: CID, fetched: Map<string, Uint8Array>, skip: Map<string, DsoError>): Promise<Uint8Array> {
    const local = await this.o.store.get(cid);
    if (local) return local;
    const have = fetched.get(cid.toString());
    if (have) return have;
    const { found } = await this.o.p2p.fetchBlocks([cid], { skip });
    const bytes = found.get(cid.toString());
    if (!bytes) {
      // A peer that sent a wrong block is the likelier story than one that has none, and one that stalled next: say so.
      const failures = [...skip];
      const bad = failures.find(([, e]) => e.code === 'CID_MISMATCH' || e.code === 'TOO_LARGE');
      if (bad !== undefined) throw new DsoError(bad[1].code, `block ${String(cid)}: peer ${bad[0]} sent a bad block: ${bad[1].message}`);
      const late = failures.find(([, e]) => e.code === 'PEER_TIMEOUT');
      if (late !== undefined) throw new DsoError('PEER_TIMEOUT', `no peer sent block ${String(cid)} in time: ${late[1].message}`);
      throw new DsoError('IO_ERROR', `no peer has block ${String(cid)}`);
    }
    fetched.set(cid.toString(), bytes);
    return bytes;
  }

  private async prefetch(manifest: Uint8Array, fetched: Map<string, Uint8Array>, skip: Map<string, DsoError>): Promise<void> {
    let list: unknown;
    try {
      list = dagCbor.decode<{ records?: unknown }>(manifest).records;
    } catch {
      return; // openBatch reports the malformed manifest
    }
    if (!Array.isArray(list)) return;
    const wanted: CID[] = [];
    for (const c of list) {
      const cid = CIDClass.asCID(c);
      if (cid && !fetched.has(cid.toString()) && !(await this.o.store.has(cid))) wanted.push(cid);
    }
    // Record blocks are small (wire.ts): a peer cannot make this node hold a megabyte per record while it verifies.
    if (wanted.length > 0)
      for (const [k, v] of (await this.o.p2p.fetchBlocks(wanted, { skip, maxBytes: MAX_RECORD_BYTES })).found) fetched.set(k, v);
  }

  /** Fetches and verifies a registered batch; stores its blocks only if all of it verified. */
  async loadBatch(b: Pick<RegisteredBatch, 'id' | 'root' | 'cid' | 'count' | 'submitter'>): Promise<VerifiedBatch> {
    const fetched = new Map<string, Uint8Array>();
    const skip = new Map<string, DsoError>();
    let envCid: CID;
    try {
      envCid = CIDClass.parse(b.cid);
    } catch {
      throw new DsoError('MALFORMED_RECORD', `registered batch ${b.id} names ${b.cid}, not a CID`);
    }
    const envBytes = await this.block(envCid, fetched, skip);
    verifyBlock(envCid, envBytes, this.o.store.maxBlockBytes);
    const a = decodeEnvelope(envBytes);
    if (a.root !== b.root || a.count !== b.count || getAddress(a.node) !== getAddress(b.submitter) || a.network !== this.o.network) {
      throw new DsoError('BAD_PROOF', `batch ${b.id}: the announcement does not match what its submitter registered`);
    }
    // When the manifest arrives, ask peers for all its records in one round; openBatch then verifies each in order.
    const fetchBlock = async (cid: CID): Promise<Uint8Array> => {
      const bytes = await this.block(cid, fetched, skip);
      if (cid.toString() === a.manifest) await this.prefetch(bytes, fetched, skip);
      return bytes;
    };
    const opened = await openBatch(a, fetchBlock, {
      chainId: this.o.chainId,
      registry: this.o.registry.address,
      maxRecords: this.o.maxRecords,
      maxBlockBytes: this.o.store.maxBlockBytes,
    });
    for (const [c, bytes] of fetched) await this.o.store.putVerified(CIDClass.parse(c), bytes);
    if (!(await this.o.store.has(cidOfBlock(envBytes)))) await this.o.store.put(envBytes);
    let bytesIn = 0;
    for (const v of fetched.values()) bytesIn += v.byteLength;
    this.traffic.bytesIn += bytesIn;
    return { batchId: b.id, announcement: a, records: opened.records.map((r) => r.opened), bytesIn };
  }

  /** One round against the registry (see the file's comment); `member`: whether this account may vote. */
  async advance(opts: { member: boolean }): Promise<Round> {
    const round: Round = { votes: [], finalized: [], accepted: [], failures: [] };
    // Without the registry's events nothing else in the round can be decided.
    if (!(await this.readChain(round))) return round;
    if (opts.member) await this.voteDue(round);
    await this.finalizeDue(round);
    // A vote or a finalization of this round may have decided a batch: fetch it now rather than next round.
    if (round.votes.length + round.finalized.length > 0) await this.readChain(round);
    await this.fetchAccepted(round);
    return round;
  }

  private async readChain(round: Round): Promise<boolean> {
    try {
      const changes = await this.cursor.sync();
      for (const e of changes.undone) if (e.type === 'BatchAccepted') this.toFetch.delete(e.id);
      for (const b of changes.accepted) this.toFetch.set(b.id, b);
      return true;
    } catch (e) {
      round.failures.push({ stage: 'chain', reason: describeError(e), retry: true });
      return false;
    }
  }

  private async voteDue(round: Round): Promise<void> {
    let due: OpenBatch[];
    try {
      due = (await this.cursor.needingVote()).batches;
    } catch (e) {
      round.failures.push({ stage: 'chain', reason: describeError(e), retry: true });
      return;
    }
    const me = getAddress(this.o.identity.address);
    for (const b of due) {
      if (this.voted.has(b.id) || getAddress(b.submitter) === me) continue;
      let decision: { approve: boolean; reason?: string };
      try {
        const verified = await this.loadBatch(b);
        this.guard.accept(verified.announcement);
        decision = await (this.o.votePolicy ?? shapeVotePolicy)(verified);
      } catch (e) {
        const tries = (this.unavailable.get(b.id) ?? 0) + 1;
        if (e instanceof DsoError && TRANSIENT.has(e.code) && tries < (this.o.fetchTries ?? 3)) {
          this.unavailable.set(b.id, tries);
          round.failures.push({ stage: 'fetch', batchId: b.id, reason: describeError(e), retry: true });
          continue;
        }
        decision = { approve: false, reason: describeError(e) };
      }
      this.unavailable.delete(b.id);
      try {
        await this.vote(b.id, decision.approve);
        round.votes.push({ batchId: b.id, ...decision });
      } catch (e) {
        round.failures.push({ stage: 'vote', batchId: b.id, reason: describeError(e), retry: true });
      }
    }
  }

  private async finalizeDue(round: Round): Promise<void> {
    let due: OpenBatch[];
    try {
      due = (await this.cursor.needingFinalization()).batches;
    } catch (e) {
      round.failures.push({ stage: 'chain', reason: describeError(e), retry: true });
      return;
    }
    for (const b of due) {
      try {
        round.finalized.push({ batchId: b.id, status: await this.o.registry.finalize(b.id) });
      } catch (e) {
        round.failures.push({ stage: 'finalize', batchId: b.id, reason: describeError(e), retry: true });
      }
    }
  }

  private async fetchAccepted(round: Round): Promise<void> {
    for (const [id, b] of [...this.toFetch]) {
      try {
        const verified = await this.loadBatch(b);
        const votes = await this.o.registry.batchVotes(id);
        const endorsers = [getAddress(b.submitter), ...votes.filter((v) => v.approve).map((v) => getAddress(v.member))];
        round.accepted.push({ ...verified, submitter: getAddress(b.submitter), endorsers: [...new Set(endorsers)] });
        this.toFetch.delete(id);
      } catch (e) {
        // An accepted batch that does not verify never will: it is reported once and dropped.
        const retry = e instanceof DsoError && TRANSIENT.has(e.code);
        if (!retry) this.toFetch.delete(id);
        round.failures.push({ stage: 'fetch', batchId: id, reason: describeError(e), retry });
      }
    }
  }

  async vote(batchId: bigint, approve: boolean): Promise<void> {
    await this.o.registry.vote(batchId, approve);
    this.voted.add(batchId);
  }
}
