/**
 * Bitswap (/ipfs/bitswap/1.2.0) on the node's own libp2p, so that any IPFS
 * implementation (kubo, helia) can fetch a node's blocks by CID and the node
 * can fetch from them. The protocol engine is @helia/bitswap. It ships only
 * as a Helia mixin, so this file hosts it with exactly what it asks of a
 * Helia node: the node's libp2p, a blockstore, a logger, a hasher loader and
 * content routing. The blockstore is a read-only view of the node's store
 * that never serves a block it cannot vouch for (every read is checked
 * against its CID) and caps the bytes one reply to one peer holds; the
 * routing finds nobody, because peers come from configuration only (no DHT,
 * no delegated routers, nothing dialled that was not named).
 *
 * What a peer can make this node hold (docs/protocol.md, "Bitswap"):
 *  - wants: at most BITSWAP_LIMITS.wantsPerPeer CIDs per peer (a want for a
 *    CID already wanted is the same want: duplicates are answered once);
 *  - replies: one at a time per peer, each at most BITSWAP_LIMITS.replyBytes
 *    of blocks; the wants left over go out in the next reply, queued as soon
 *    as one is capped;
 *  - messages: at most BITSWAP_LIMITS.messageBytes each, on at most
 *    BITSWAP_LIMITS.streamsPerConnection streams, each message received
 *    within BITSWAP_LIMITS.messageTimeoutMs.
 * Fetching, this node wants at most BITSWAP_LIMITS.fetchConcurrency CIDs at
 * once, gives up once no block has come for BITSWAP_LIMITS.fetchIdleMs (or
 * after fetchTimeoutMs in all), and checks what arrives against its CID and
 * size before the caller sees it; nothing is stored here.
 */
import { setMaxListeners } from 'node:events';

import { withBitswap } from '@helia/bitswap';
import type { Libp2p } from '@libp2p/interface';
import { BaseBlockstore } from 'blockstore-core';
import type { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';

import { DsoError } from '../core/errors.js';
import { type ContentStore, verifyBlock } from './content-store.js';

export const BITSWAP_PROTOCOL = '/ipfs/bitswap/1.2.0';

export const BITSWAP_LIMITS: Readonly<
  Record<
    | 'wantsPerPeer'
    | 'replyBytes'
    | 'messageBytes'
    | 'streamsPerConnection'
    | 'messageTimeoutMs'
    | 'fetchConcurrency'
    | 'fetchIdleMs'
    | 'fetchTimeoutMs',
    number
  >
> = {
  /** CIDs one peer may have on its wantlist here; the same cap as one /dso/blocks request. */
  wantsPerPeer: 1024,
  /** Bytes of blocks in one reply to one peer (a reply holds at least one block, and a block is at most 1 MiB). */
  replyBytes: 1 << 20,
  /** One bitswap message, in or out; 4 MiB is what helia and boxo send at most. */
  messageBytes: 4 << 20,
  /** Concurrent bitswap streams per connection, each way. */
  streamsPerConnection: 8,
  /** A message must arrive, or be sent, within this. */
  messageTimeoutMs: 10_000,
  /** CIDs this node wants from its peers at once. */
  fetchConcurrency: 256,
  /** A fetch ends when no block has arrived for this long (what nobody has costs this much)... */
  fetchIdleMs: 5_000,
  /** ...or after this long in all. */
  fetchTimeoutMs: 60_000,
};

export type BitswapLimits = typeof BITSWAP_LIMITS;

/** What the ledger of @helia/bitswap takes for "we do not have it": it tests the error's name. */
function notFound(cid: CID): Error {
  return Object.assign(new Error(`block ${String(cid)} is not served`), { name: 'NotFoundError' });
}

/**
 * The node's store as bitswap sees it: reads only, each block verified, and
 * at most `replyBytes` read per reply. @helia/bitswap builds one reply to one
 * peer per send job and passes that job's AbortSignal to every read, so the
 * signal names the reply; a block that would push a reply over the cap is
 * "not had" for now and stays on the peer's wantlist. `deferred` is told once
 * per capped reply, so that the next reply is started (a peer need not send
 * anything more: helia, for one, sends no cancels).
 */
export class ServingBlockstore extends BaseBlockstore {
  private readonly replies = new WeakMap<AbortSignal, number>();
  private readonly capped = new WeakSet<AbortSignal>();

  constructor(
    private readonly store: ContentStore,
    private readonly replyBytes: number,
    private readonly deferred: (cid: CID) => void = () => {},
  ) {
    super();
  }

  override async has(cid: CID): Promise<boolean> {
    return this.store.has(cid);
  }

  override async *get(cid: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await this.store.get(cid);
    } catch {
      bytes = undefined; // a block that no longer hashes to its CID is never served
    }
    if (bytes === undefined) throw notFound(cid);
    const signal = options?.signal;
    if (signal !== undefined) {
      const used = this.replies.get(signal) ?? 0;
      if (used > 0 && used + bytes.byteLength > this.replyBytes) {
        if (!this.capped.has(signal)) {
          this.capped.add(signal);
          this.deferred(cid);
        }
        throw notFound(cid);
      }
      this.replies.set(signal, used + bytes.byteLength);
    }
    yield bytes;
  }
}

interface Mixin {
  name: string;
  start?(host: unknown): Promise<void> | void;
}

/** The part of @helia/bitswap's block broker this node uses. */
interface BitswapBroker {
  name: string;
  retrieve(cid: CID, options: { signal: AbortSignal }): Promise<Uint8Array>;
  announce(cid: CID): Promise<void>;
  stop(): Promise<void> | void;
}

function isBroker(b: unknown): b is BitswapBroker {
  const o = b as Partial<BitswapBroker> | null;
  return (
    o !== null &&
    typeof o === 'object' &&
    typeof o.retrieve === 'function' &&
    typeof o.announce === 'function' &&
    typeof o.stop === 'function'
  );
}

export class BitswapExchange {
  private constructor(
    private readonly libp2p: Libp2p,
    private readonly broker: BitswapBroker,
    private readonly store: ContentStore,
    private readonly limits: BitswapLimits,
  ) {}

  /** Serves `store` over bitswap on `libp2p` and fetches through it, with BITSWAP_LIMITS (some overridable, for tests). */
  static async start(libp2p: Libp2p, store: ContentStore, limits: Partial<BitswapLimits> = {}): Promise<BitswapExchange> {
    const l = { ...BITSWAP_LIMITS, ...limits };
    const mixins: Mixin[] = [];
    const brokers: unknown[] = [];
    const started: { broker?: BitswapBroker } = {};
    // Announcing the deferred block queues the next reply to every peer that wants it, after the one being built.
    const deferred = (cid: CID) => setImmediate(() => void started.broker?.announce(cid).catch(() => {}));
    const host = {
      status: 'starting',
      libp2p,
      blockstore: new ServingBlockstore(store, l.replyBytes, deferred),
      logger: libp2p.logger,
      // Blocks under another hash are skipped by bitswap (it tests for a missing hasher).
      getHasher: (code: number) => (code === sha256.code ? sha256 : undefined),
      routing: { findProviders: async function* () {} },
      addMixin: (m: Mixin) => mixins.push(m),
      hasBlockBroker: (name: string) => brokers.some((b) => (b as { name?: string }).name === name),
      addBlockBroker: (b: unknown) => brokers.push(b),
    };
    withBitswap(host as unknown as Parameters<typeof withBitswap>[0], {
      maxInboundStreams: l.streamsPerConnection,
      maxOutboundStreams: l.streamsPerConnection,
      maxIncomingMessageSize: l.messageBytes,
      maxOutgoingMessageSize: l.messageBytes,
      messageReceiveTimeout: l.messageTimeoutMs,
      messageSendTimeout: l.messageTimeoutMs,
      maxWantlistSize: l.wantsPerPeer,
      // The ledger reads this spelling; the typed one above is not read (@helia/bitswap 4.0).
      ...{ maxWantListSize: l.wantsPerPeer },
    });
    for (const m of mixins) await m.start?.(host);
    started.broker = brokers.find(isBroker);
    if (started.broker === undefined) throw new DsoError('IO_ERROR', '@helia/bitswap did not provide its block broker');
    return new BitswapExchange(libp2p, started.broker, store, l);
  }

  /**
   * Asks every connected bitswap peer for `cids`, at most fetchConcurrency at
   * a time, until each arrived or the deadlines passed (fetchIdleMs without a
   * block, fetchTimeoutMs in all). Returns the blocks that arrived, each
   * checked against its CID and the store's size limit; stores nothing.
   */
  async fetch(cids: readonly CID[]): Promise<{ found: Map<string, Uint8Array>; refused: DsoError[] }> {
    const found = new Map<string, Uint8Array>();
    const refused: DsoError[] = [];
    if (cids.length === 0 || this.libp2p.getConnections().length === 0) return { found, refused };
    const idle = new AbortController();
    let timer = setTimeout(() => idle.abort(), this.limits.fetchIdleMs);
    const deadline = AbortSignal.any([idle.signal, AbortSignal.timeout(this.limits.fetchTimeoutMs)]);
    setMaxListeners(Infinity, deadline); // one listener per want in flight
    let next = 0;
    const worker = async () => {
      while (next < cids.length && !deadline.aborted) {
        const cid = cids[next++];
        let bytes: Uint8Array;
        try {
          bytes = await this.broker.retrieve(cid, { signal: deadline });
        } catch {
          continue; // not found before the deadline
        }
        clearTimeout(timer);
        timer = setTimeout(() => idle.abort(), this.limits.fetchIdleMs);
        try {
          verifyBlock(cid, bytes, this.store.maxBlockBytes);
          found.set(cid.toString(), bytes);
        } catch (e) {
          if (e instanceof DsoError) refused.push(e);
          else throw e;
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.limits.fetchConcurrency, cids.length) }, worker));
    } finally {
      clearTimeout(timer);
    }
    return { found, refused };
  }

  async stop(): Promise<void> {
    await this.broker.stop();
  }
}
