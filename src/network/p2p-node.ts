/**
 * The peer-to-peer side of a node: libp2p over TCP with Noise encryption and
 * yamux multiplexing; gossipsub carries batch announcements on one topic per
 * network; a request/response protocol of this project's own
 * (/dso/blocks/1.0.0) moves content blocks between dso nodes, and bitswap
 * (bitswap.ts) serves and fetches the same blocks for any IPFS node. Peers
 * come from configuration (and the chain) only: no bootstrap list, no DHT,
 * nothing dialled that was not named. Named peers are kept connected:
 * dialled again with backoff when they are down at start or go away later.
 *
 * Gossip is validated before it spreads: an announcement whose envelope does
 * not decode or whose signature does not verify is rejected by the topic
 * validator, so a forged announcement stops at the first honest peer. Blocks
 * fetched from peers are checked against their CIDs before anyone sees them.
 */
import './polyfill.js';

import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import * as dagCbor from '@ipld/dag-cbor';
import { gossipsub, TopicValidatorResult } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { PeerId, PrivateKey, Stream } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import { CID } from 'multiformats/cid';

import { DsoError } from '../core/errors.js';
import { type BatchAnnouncement, decodeEnvelope, verifyAnnouncement } from './batch.js';
import { BitswapExchange, type BitswapLimits } from './bitswap.js';
import { type ContentStore, verifyBlock } from './content-store.js';

export const BLOCKS_PROTOCOL = '/dso/blocks/1.0.0';
const MAX_CIDS_PER_REQUEST = 1024;
/** A dial that has not connected by then is given up (and retried later, for kept peers). */
const DIAL_TIMEOUT_MS = 10_000;
/** Kept peers: the longest wait between redials, and how often a connected one is checked. */
const MAX_BACKOFF_MS = 30_000;
const CHECK_MS = 5_000;

export interface P2POptions {
  network: string;
  chainId: number;
  store: ContentStore;
  /** Listen addresses (default /ip4/127.0.0.1/tcp/0). */
  listen?: string[];
  /** The libp2p key (p2p-identity.ts derives one from the node key); default: a new one each start. */
  privateKey?: PrivateKey;
  /** Peers to dial at start (multiaddrs with /p2p/<peer id>). */
  peers?: string[];
  /** Called for each verified announcement from the network (not our own). */
  onAnnouncement?: (a: BatchAnnouncement, envelope: Uint8Array) => void;
  /** Bitswap limits (BITSWAP_LIMITS), e.g. a shorter fetch deadline. */
  bitswap?: Partial<BitswapLimits>;
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
  private bitswap: BitswapExchange | undefined;
  private constructor(
    private readonly node: Libp2p<{ pubsub: GossipService; identify: unknown }>,
    private readonly opts: P2POptions,
  ) {
    this.topic = `/dso/${opts.network}/batches/1`;
  }

  static async start(opts: P2POptions): Promise<P2PNode> {
    const node = await createLibp2p({
      privateKey: opts.privateKey,
      addresses: { listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: {
        identify: identify(),
        pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false }),
      },
    });
    const p = new P2PNode(node, opts);
    await p.init();
    return p;
  }

  private async init(): Promise<void> {
    const pubsub = this.node.services.pubsub;
    pubsub.topicValidators.set(this.topic, async (_peer, msg) => {
      try {
        const a = decodeEnvelope(msg.data);
        if (a.network !== this.opts.network) return TopicValidatorResult.Reject;
        await verifyAnnouncement(a, { chainId: this.opts.chainId });
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
    await this.node.handle(BLOCKS_PROTOCOL, (stream) => {
      void this.serveBlocks(stream);
    });
    this.bitswap = await BitswapExchange.start(this.node, this.opts.store, this.opts.bitswap);
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
      if (this.stopped) return;
      const connected = peer !== null && this.node.getPeers().some((p) => p.toString() === peer);
      if (!connected) {
        try {
          await this.node.dial(multiaddr(address), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) });
          state.backoff = 1000;
          state.lastError = undefined;
        } catch (e) {
          state.lastError = (e as Error).message;
          state.backoff = Math.min(MAX_BACKOFF_MS, state.backoff * 2);
        }
      }
      if (this.stopped) return;
      // Jitter, so peers that lost each other at once do not dial in lockstep.
      state.timer = setTimeout(() => void attempt(), connected ? CHECK_MS : state.backoff * (0.75 + Math.random() / 2));
      state.timer.unref();
    };
    void attempt();
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

  /** The protocols this node answers (/dso/blocks, bitswap, gossipsub, identify). */
  get protocols(): string[] {
    return this.node.getProtocols();
  }

  get peerId(): PeerId {
    return this.node.peerId;
  }

  async dial(address: string): Promise<void> {
    try {
      await this.node.dial(multiaddr(address), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) });
    } catch (e) {
      throw new DsoError('IO_ERROR', `cannot dial ${address}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Peers subscribed to this network's topic. */
  topicPeers(): number {
    return this.node.services.pubsub.getSubscribers(this.topic).length;
  }

  async publish(envelope: Uint8Array): Promise<void> {
    await this.node.services.pubsub.publish(this.topic, envelope);
  }

  private async serveBlocks(stream: Stream): Promise<void> {
    const lp = lpStream(stream, { maxDataLength: 64 * 1024 });
    try {
      const req = dagCbor.decode<{ cids: CID[] }>((await lp.read()).subarray());
      if (!Array.isArray(req?.cids) || req.cids.length > MAX_CIDS_PER_REQUEST) throw new Error('bad request');
      const out: Uint8Array[] = [];
      for (const c of req.cids) {
        const cid = CID.asCID(c);
        out.push((cid && (await this.opts.store.get(cid))) || new Uint8Array(0));
      }
      await lp.writeV(out);
      await stream.close();
    } catch (e) {
      stream.abort(e as Error);
    }
  }

  /**
   * Fetches blocks from connected peers, each checked against its CID and
   * the size limit: first over /dso/blocks from the peers that speak it (the
   * fast path), then what is still missing over bitswap from any peer, under
   * its deadline. A peer that sends a wrong block is not asked again in this
   * call. Returns what was found (verified), and the peers that sent
   * something else.
   */
  async fetchBlocks(cids: CID[]): Promise<{ found: Map<string, Uint8Array>; refused: { peer: string; error: DsoError }[] }> {
    const found = new Map<string, Uint8Array>();
    const refused: { peer: string; error: DsoError }[] = [];
    // Each CID once (a manifest of 10,000 records asks for 10,000 blocks: no quadratic de-duplication).
    let missing = [...new Map(cids.map((c) => [c.toString(), c])).values()];
    for (const peer of this.node.getPeers()) {
      if (missing.length === 0) break;
      for (let s = 0; s < missing.length; s += MAX_CIDS_PER_REQUEST) {
        const part = missing.slice(s, s + MAX_CIDS_PER_REQUEST);
        let stream: Stream;
        try {
          stream = await this.node.dialProtocol(peer, BLOCKS_PROTOCOL);
        } catch {
          break;
        }
        const lp = lpStream(stream, { maxDataLength: this.opts.store.maxBlockBytes });
        try {
          await lp.write(dagCbor.encode({ cids: part }));
          for (const cid of part) {
            const bytes = (await lp.read()).subarray();
            if (bytes.byteLength === 0) continue;
            verifyBlock(cid, bytes, this.opts.store.maxBlockBytes);
            found.set(cid.toString(), bytes);
          }
          await stream.close();
        } catch (e) {
          // A bad or oversized block, or a broken stream: drop this peer for this call.
          if (e instanceof DsoError) refused.push({ peer: peer.toString(), error: e });
          stream.abort(new Error('bad block exchange'));
          break;
        }
      }
      missing = missing.filter((c) => !found.has(c.toString()));
    }
    if (missing.length > 0 && this.bitswap) {
      const viaBitswap = await this.bitswap.fetch(missing);
      for (const [k, v] of viaBitswap.found) found.set(k, v);
      for (const error of viaBitswap.refused) refused.push({ peer: 'bitswap', error });
    }
    return { found, refused };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.kept.values()) clearTimeout(s.timer);
    await this.bitswap?.stop();
    await this.node.stop();
  }
}
