/**
 * NetworkDSOAggregator: a node's view of the shared experience pool.
 *
 * submit(): store the records, build and sign the batch, register it on the
 * chain (root, announcement CID, count) and announce it by gossip.
 * votePending(): for every registered batch still open, fetch and verify it
 * (signature, every block's hash, manifest, root, decoding) and vote with the
 * node's policy; a batch that fails verification is voted down, with the
 * reason kept. fetchGlobal(): the records of batches the registry accepted
 * since the last call, verified the same way. Blocks are kept only once their
 * whole batch has verified, and then served to other peers.
 */
import * as dagCbor from '@ipld/dag-cbor';
import type { CID } from 'multiformats/cid';
import { CID as CIDClass } from 'multiformats/cid';
import { getAddress } from 'viem';

import type { CompressedExperience } from '../bitdelta/record.js';
import { MAX_RECORD_BYTES } from '../bitdelta/wire.js';
import { DsoError } from '../core/errors.js';
import { isExperienceText } from '../experience/text.js';
import { type BatchAnnouncement, buildBatch, decodeEnvelope, encodeEnvelope, openBatch, type OpenedRecord } from './batch.js';
import { cidOfBlock, type ContentStore, verifyBlock } from './content-store.js';
import type { NodeIdentity } from './identity.js';
import type { P2PNode } from './p2p-node.js';
import type { RegisteredBatch, RegistryClient } from './registry.js';
import { ReplayGuard } from './replay-guard.js';

export interface VerifiedBatch {
  batchId: bigint;
  announcement: BatchAnnouncement;
  records: OpenedRecord[];
  /** Bytes fetched from peers to verify it (0 when every block was already here). */
  bytesIn: number;
}

/** Decides a vote on a batch that verified; the default approves batches whose every record is a well-formed experience. */
export type VotePolicy = (batch: VerifiedBatch) => boolean | Promise<boolean>;

export const defaultVotePolicy: VotePolicy = (b) => b.records.every((r) => isExperienceText(r.text));

export interface VoteOutcome {
  batchId: bigint;
  approve: boolean;
  /** Why the batch was voted down without a policy decision (it did not verify). */
  reason?: string;
}

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
}

export class NetworkDSOAggregator {
  private readonly guard: ReplayGuard;
  private nextBatch = 0n;
  private acceptedSeen = 0;
  private readonly voted = new Set<bigint>();
  /** Bytes published for peers (submit) and fetched from them (verification), since start. */
  readonly traffic = { bytesOut: 0, bytesIn: 0 };

  constructor(private readonly o: NetworkAggregatorOptions) {
    this.guard = o.replayGuard ?? new ReplayGuard();
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

  /** Votes on every open batch registered since the last call (not this node's own). */
  async votePending(): Promise<VoteOutcome[]> {
    const count = await this.o.registry.batchCount();
    const out: VoteOutcome[] = [];
    for (let id = this.nextBatch; id < count; id++) {
      this.nextBatch = id + 1n;
      if (this.voted.has(id)) continue;
      // Open by the chain's clock, and this account in the batch's membership snapshot without a vote yet.
      if (!(await this.o.registry.canVote(id))) continue;
      const b = await this.o.registry.getBatch(id);
      let approve: boolean;
      let reason: string | undefined;
      try {
        const verified = await this.loadBatch(b);
        this.guard.accept(verified.announcement);
        approve = await (this.o.votePolicy ?? defaultVotePolicy)(verified);
      } catch (e) {
        approve = false;
        reason = e instanceof DsoError ? `${e.code}: ${e.message}` : (e as Error).message;
      }
      await this.vote(id, approve);
      out.push(reason === undefined ? { batchId: id, approve } : { batchId: id, approve, reason });
    }
    return out;
  }

  async vote(batchId: bigint, approve: boolean): Promise<void> {
    await this.o.registry.vote(batchId, approve);
    this.voted.add(batchId);
  }

  /**
   * Records of the batches accepted since the last call, each batch verified
   * end to end; a batch that fails is skipped and reported, never half used.
   */
  async fetchGlobal(): Promise<{ records: OpenedRecord[]; batches: number; bytes: number; failed: { batchId: bigint; reason: string }[] }> {
    const total = Number(await this.o.registry.acceptedCount());
    const records: OpenedRecord[] = [];
    let batches = 0;
    let bytes = 0;
    const failed: { batchId: bigint; reason: string }[] = [];
    while (this.acceptedSeen < total) {
      const page = await this.o.registry.acceptedBatches(this.acceptedSeen, 100);
      for (const b of page) {
        try {
          const v = await this.loadBatch(b);
          records.push(...v.records);
          batches++;
          bytes += v.bytesIn;
        } catch (e) {
          failed.push({ batchId: b.id, reason: e instanceof DsoError ? `${e.code}: ${e.message}` : (e as Error).message });
        }
      }
      this.acceptedSeen += page.length;
    }
    return { records, batches, bytes, failed };
  }
}
