/**
 * The peer-to-peer side of a node: libp2p over TCP with Noise encryption and
 * yamux multiplexing; gossipsub carries batch announcements on one topic per
 * network; a request/response protocol of this project's own
 * (/dso/blocks/1.0.0, block-exchange.ts) moves content blocks. Peers come
 * from configuration (and the chain) only: no bootstrap list, no DHT, nothing
 * dialled that was not named. Named peers are kept connected: dialled again
 * with backoff when they are down at start or go away later.
 *
 * Gossip is validated before it spreads: an announcement whose envelope does
 * not decode or whose signature does not verify is rejected by the topic
 * validator, so a forged announcement stops at the first honest peer. Blocks
 * fetched from peers are checked against their CIDs before anyone sees them.
 * What peers may cost this node, and how long it waits on them, is bounded
 * by its PeerLimits (peer-limits.ts).
 */
import './polyfill.js';

import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, TopicValidatorResult } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { PeerId, PrivateKey } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import type { CID } from 'multiformats/cid';

import { DsoError } from '../core/errors.js';
import { type BatchAnnouncement, type BatchDomain, decodeEnvelope, verifyAnnouncement } from './batch.js';
import { BLOCKS_PROTOCOL, requestBlocks, serveBlockRequest, type ServerContext, type ServingStats } from './block-exchange.js';
import type { ContentStore } from './content-store.js';
import { Deadline } from './deadline.js';
import { InFlight, type PeerLimits, peerLimits } from './peer-limits.js';

export { BLOCKS_PROTOCOL } from './block-exchange.js';

/** Kept peers: the longest wait between redials, and how often a connected one is checked. */
const MAX_BACKOFF_MS = 30_000;
const CHECK_MS = 5_000;

export interface P2POptions extends BatchDomain {
  network: string;
  store: ContentStore;
  /** Listen addresses (default /ip4/127.0.0.1/tcp/0). */
  listen?: string[];
  /** The libp2p key (p2p-identity.ts derives one from the node key); default: a new one each start. */
  privateKey?: PrivateKey;
  /** Peers to keep connected (multiaddrs with /p2p/<peer id>): dialled at start and again whenever they are lost. */
  peers?: string[];
  /** Called for each verified announcement from the network (not our own). */
  onAnnouncement?: (a: BatchAnnouncement, envelope: Uint8Array) => void;
  /** What peers may cost this node and how long it waits on them (DEFAULT_PEER_LIMITS for what is not given). */
  limits?: Partial<PeerLimits>;
  /** Where a refused or timed-out peer is reported, one line each (default: standard error). */
  log?: (line: string) => void;
}

/** A peer that did not take part in a fetch: it sent a bad block, or timed out, or broke off. */
export interface PeerFailure {
  peer: string;
  error: DsoError;
}

export interface FetchOptions {
  /** Peers not to ask, with how they failed; the peers that fail in this fetch are added, so a caller's next fetch skips them too. */
  skip?: Map<string, DsoError>;
  /** Largest block accepted (default: the store's). */
  maxBytes?: number;
}

type GossipService = ReturnType<ReturnType<typeof gossipsub>>;

/** The /p2p/<peer id> of a multiaddr, if it names one. */
function peerIdOf(address: string): string | null {
  return (
    multiaddr(address)
      .getComponents()
      .find((c) => c.name === 'p2p')?.value ?? null
  );
}

export class P2PNode {
  readonly topic: string;
  readonly limits: PeerLimits;
  private readonly serving: ServerContext;

  private constructor(
    private readonly node: Libp2p<{ pubsub: GossipService; identify: unknown }>,
    private readonly opts: P2POptions,
    limits: PeerLimits,
  ) {
    this.topic = `/dso/${opts.network}/batches/1`;
    this.limits = limits;
    this.serving = {
      store: opts.store,
      limits,
      inFlight: new InFlight(limits),
      stats: { requests: 0, refused: 0, bytesServed: 0 },
      log: opts.log ?? ((line) => process.stderr.write(`dso p2p: ${line}\n`)),
    };
  }

  static async start(opts: P2POptions): Promise<P2PNode> {
    const limits = peerLimits(opts.limits, opts.store.maxBlockBytes);
    const node = await createLibp2p({
      privateKey: opts.privateKey,
      addresses: { listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: {
        dialTimeout: limits.dialTimeoutMs,
        inboundUpgradeTimeout: limits.dialTimeoutMs,
        outboundStreamProtocolNegotiationTimeout: limits.streamTimeoutMs,
        inboundStreamProtocolNegotiationTimeout: limits.streamTimeoutMs,
      },
      services: {
        identify: identify(),
        pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false }),
      },
    });
    const p = new P2PNode(node, opts, limits);
    await p.init();
    return p;
  }

  private async init(): Promise<void> {
    const pubsub = this.node.services.pubsub;
    pubsub.topicValidators.set(this.topic, async (_peer, msg) => {
      try {
        const a = decodeEnvelope(msg.data);
        if (a.network !== this.opts.network) return TopicValidatorResult.Reject;
        await verifyAnnouncement(a, this.opts);
        return TopicValidatorResult.Accept;
      } catch {
        return TopicValidatorResult.Reject;
      }
    });
    pubsub.addEventListener('message', (evt) => {
      const msg = evt.detail;
      if (msg.topic !== this.topic) return;
      this.opts.onAnnouncement?.(decodeEnvelope(msg.data), msg.data);
    });
    pubsub.subscribe(this.topic);
    await this.node.handle(BLOCKS_PROTOCOL, (stream, connection) =>
      serveBlockRequest(stream, connection.remotePeer.toString(), this.serving),
    );
    for (const p of this.opts.peers ?? []) this.keepConnected(p);
  }

  /** Known peers' addresses, kept connected: a peer down at start or restarted later is dialled again with backoff. */
  private readonly kept = new Map<string, { timer?: NodeJS.Timeout; backoff: number; lastError?: string }>();
  private stopped = false;

  /** Keeps a connection to `address` (a multiaddr with /p2p/<peer id>): dials now, and again with backoff whenever it is lost. */
  keepConnected(address: string): void {
    if (this.kept.has(address) || this.stopped) return;
    const state: { timer?: NodeJS.Timeout; backoff: number; lastError?: string } = { backoff: 1000 };
    this.kept.set(address, state);
    const peer = peerIdOf(address);
    const attempt = async () => {
      state.timer = undefined;
      if (this.stopped || this.kept.get(address) !== state) return;
      const connected = peer !== null && this.node.getPeers().some((p) => p.toString() === peer);
      if (!connected) {
        try {
          await this.dial(address);
          state.backoff = 1000;
          state.lastError = undefined;
        } catch (e) {
          state.lastError = `${(e as DsoError).code}: ${(e as Error).message}`;
          state.backoff = Math.min(MAX_BACKOFF_MS, state.backoff * 2);
        }
      }
      if (this.stopped || this.kept.get(address) !== state) return;
      // Jitter, so peers that lost each other at once do not dial in lockstep.
      state.timer = setTimeout(() => void attempt(), connected ? CHECK_MS : state.backoff * (0.75 + Math.random() / 2));
      state.timer.unref();
    };
    void attempt();
  }

  /** Stops keeping `address` connected (a member that left): no more redials; an open connection is left to close on its own. */
  release(address: string): void {
    clearTimeout(this.kept.get(address)?.timer);
    this.kept.delete(address);
  }

  /** The peers this node keeps connections to, and whether each is connected now. */
  keptPeers(): Array<{ address: string; connected: boolean; lastError?: string }> {
    const connected = new Set(this.node.getPeers().map((p) => p.toString()));
    return [...this.kept].map(([address, s]) => ({
      address,
      connected: connected.has(peerIdOf(address) ?? ''),
      ...(s.lastError ? { lastError: s.lastError } : {}),
    }));
  }

  /** This node's listen addresses, with its peer id: what other nodes put in their peer lists. */
  get addresses(): string[] {
    return this.node.getMultiaddrs().map((m) => m.toString());
  }

  get peerId(): PeerId {
    return this.node.peerId;
  }

  /** What this node's block server has done since start, and the block bytes it holds for peers now and at most. */
  servingStats(): ServingStats {
    const { inFlight, stats } = this.serving;
    return { ...stats, bytesInFlight: inFlight.bytes, peakBytesInFlight: inFlight.peakBytes };
  }

  /** Connects to a peer; PEER_TIMEOUT past dialTimeoutMs, IO_ERROR when it cannot be reached. */
  async dial(address: string): Promise<void> {
    const deadline = new Deadline(this.limits.dialTimeoutMs, this.limits.dialTimeoutMs, `dialling ${address}`);
    try {
      await deadline.run(`dialling ${address}`, (signal) => this.node.dial(multiaddr(address), { signal }));
    } catch (e) {
      if (e instanceof DsoError) throw e;
      throw new DsoError('IO_ERROR', `cannot dial ${address}: ${(e as Error).message}`, { cause: e });
    } finally {
      deadline.clear();
    }
  }

  /** Peers subscribed to this network's topic. */
  topicPeers(): number {
    return this.node.services.pubsub.getSubscribers(this.topic).length;
  }

  async publish(envelope: Uint8Array): Promise<void> {
    await this.node.services.pubsub.publish(this.topic, envelope);
  }

  /**
   * Fetches blocks from connected peers, one peer after another, each block
   * checked against its CID and the size limit. A peer that sends a wrong
   * block, times out or breaks off is not asked again in this call (nor in
   * the caller's next, through `skip`). Returns what was found (verified),
   * the peers that sent something else (refused) and those that timed out or
   * broke off (failed).
   */
  async fetchBlocks(
    cids: CID[],
    opts: FetchOptions = {},
  ): Promise<{ found: Map<string, Uint8Array>; refused: PeerFailure[]; failed: PeerFailure[] }> {
    const found = new Map<string, Uint8Array>();
    const refused: PeerFailure[] = [];
    const failed: PeerFailure[] = [];
    const skip = opts.skip ?? new Map<string, DsoError>();
    const per = this.limits.maxCidsPerRequest;
    // Each CID once (a manifest of 10,000 records asks for 10,000 blocks: no quadratic de-duplication).
    let missing = [...new Map(cids.map((c) => [c.toString(), c])).values()];
    for (const peer of this.node.getPeers()) {
      const name = peer.toString();
      if (missing.length === 0) break;
      if (skip.has(name)) continue;
      try {
        for (let s = 0; s < missing.length; s += per) {
          await requestBlocks(name, missing.slice(s, s + per), found, {
            limits: this.limits,
            maxBytes: opts.maxBytes ?? this.opts.store.maxBlockBytes,
            open: (signal) => this.node.dialProtocol(peer, BLOCKS_PROTOCOL, { signal }),
          });
        }
      } catch (e) {
        // Move on to the next peer with what is still missing.
        const error = e as DsoError;
        (error.code === 'CID_MISMATCH' || error.code === 'TOO_LARGE' ? refused : failed).push({ peer: name, error });
        skip.set(name, error);
      }
      missing = missing.filter((c) => !found.has(c.toString()));
    }
    return { found, refused, failed };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.kept.values()) clearTimeout(s.timer);
    await this.node.stop();
  }
}
