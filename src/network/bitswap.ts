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
 * What a peer can make this node hold (docs/protocol.md, "Bitswap"), under
 * the node's PeerLimits as /dso/blocks is, plus what only bitswap has:
 *  - wants: at most PeerLimits.maxCidsPerRequest CIDs per peer (a want for a
 *    CID already wanted is the same want: duplicates are answered once);
 *  - replies: one at a time per peer, each at most BITSWAP_LIMITS.replyBytes
 *    of blocks (and never more than PeerLimits.maxBytesInFlightPerPeer); the
 *    wants left over go out in the next reply, queued as soon as one is
 *    capped;
 *  - messages: at most BITSWAP_LIMITS.messageBytes each, on at most
 *    BITSWAP_LIMITS.streamsPerConnection streams, each message received or
 *    sent within PeerLimits.streamTimeoutMs.
 * Fetching, this node wants at most BITSWAP_LIMITS.fetchConcurrency CIDs at
 * once, gives up once no block has come for PeerLimits.streamTimeoutMs (or
 * after requestTimeoutMs in all), and checks what arrives against its CID and
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
import type { PeerLimits } from './peer-limits.js';

export const BITSWAP_PROTOCOL = '/ipfs/bitswap/1.2.0';

/** What only bitswap has; the waits and the wantlist come from the node's PeerLimits. */
export interface BitswapLimits {
  /** Bytes of blocks in one reply to one peer (a reply holds at least one block, and a block is at most 1 MiB). */
  replyBytes: number;
  /** One bitswap message, in or out; 4 MiB is what helia and boxo send at most. */
  messageBytes: number;
  /** Concurrent bitswap streams per connection, each way. */
  streamsPerConnection: number;
  /** CIDs this node wants from its peers at once. */
  fetchConcurrency: number;
}

export const BITSWAP_LIMITS: Readonly<BitswapLimits> = {
  replyBytes: 1 << 20,
  messageBytes: 4 << 20,
  streamsPerConnection: 8,
  fetchConcurrency: 256,
};

/** How one bitswap fetch ended: what arrived (verified), and why the rest did not. */
export interface BitswapFetch {
  found: Map<string, Uint8Array>;
  /** The first block that did not hash to its CID or was over the size limit (CID_MISMATCH, TOO_LARGE). */
  refused?: DsoError;
  /** Set when blocks were still missing at the deadline (PEER_TIMEOUT). */
  timedOut?: DsoError;
}

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
    private readonly limits: BitswapLimits & PeerLimits,
  ) {}

  /** Serves `store` over bitswap on `libp2p` and fetches through it, under `peer` (the node's PeerLimits) and BITSWAP_LIMITS (`given` overrides some, for tests). */
  static async start(libp2p: Libp2p, store: ContentStore, peer: PeerLimits, given: Partial<BitswapLimits> = {}): Promise<BitswapExchange> {
    const l = { ...BITSWAP_LIMITS, ...given, ...peer };
    const replyBytes = Math.min(l.replyBytes, l.maxBytesInFlightPerPeer);
    const mixins: Mixin[] = [];
    const brokers: unknown[] = [];
    const started: { broker?: BitswapBroker } = {};
    // Announcing the deferred block queues the next reply to every peer that wants it, after the one being built.
    const deferred = (cid: CID) => setImmediate(() => void started.broker?.announce(cid).catch(() => {}));
    const host = {
      status: 'starting',
      libp2p,
      blockstore: new ServingBlockstore(store, replyBytes, deferred),
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
      messageReceiveTimeout: l.streamTimeoutMs,
      messageSendTimeout: l.streamTimeoutMs,
      maxWantlistSize: l.maxCidsPerRequest,
      // The ledger reads this spelling; the typed one above is not read (@helia/bitswap 4.0).
      ...{ maxWantListSize: l.maxCidsPerRequest },
    });
    for (const m of mixins) await m.start?.(host);
    started.broker = brokers.find(isBroker);
    if (started.broker === undefined) throw new DsoError('IO_ERROR', '@helia/bitswap did not provide its block broker');
    return new BitswapExchange(libp2p, started.broker, l);
  }

  /**
   * Asks every connected bitswap peer for `cids`, at most fetchConcurrency at
   * a time, until each arrived or the deadlines passed (streamTimeoutMs
   * without a block, requestTimeoutMs in all). Returns the blocks that
   * arrived, each checked against its CID and `maxBytes`; stores nothing.
   */
  async fetch(cids: readonly CID[], maxBytes: number): Promise<BitswapFetch> {
    const out: BitswapFetch = { found: new Map<string, Uint8Array>() };
    if (cids.length === 0 || this.libp2p.getConnections().length === 0) return out;
    const { streamTimeoutMs, requestTimeoutMs } = this.limits;
    const idle = new AbortController();
    const timer = setTimeout(
      () => idle.abort(new DsoError('PEER_TIMEOUT', `bitswap: no block within ${streamTimeoutMs} ms`)),
      streamTimeoutMs,
    );
    const whole = setTimeout(
      () => idle.abort(new DsoError('PEER_TIMEOUT', `bitswap: not done within ${requestTimeoutMs} ms`)),
      requestTimeoutMs,
    );
    const deadline = idle.signal;
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
        timer.refresh();
        try {
          verifyBlock(cid, bytes, maxBytes);
          out.found.set(cid.toString(), bytes);
        } catch (e) {
          if (!(e instanceof DsoError)) throw e;
          out.refused ??= e;
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.limits.fetchConcurrency, cids.length) }, worker));
    } finally {
      clearTimeout(timer);
      clearTimeout(whole);
    }
    if (out.found.size < cids.length && deadline.aborted) out.timedOut = deadline.reason as DsoError;
    return out;
  }

  async stop(): Promise<void> {
    await this.broker.stop();
  }
}
