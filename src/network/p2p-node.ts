/**
 * The peer-to-peer side of a node: libp2p over TCP with Noise encryption and
 * yamux multiplexing; gossipsub carries batch announcements on one topic per
 * network; a request/response protocol of this project's own
 * (/dso/blocks/1.0.0) moves content blocks. Peers come from configuration
 * only: no bootstrap list, no DHT, nothing dialled that was not named.
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
import type { PeerId, Stream } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import { CID } from 'multiformats/cid';

import { DsoError } from '../core/errors.js';
import { type BatchAnnouncement, type BatchDomain, decodeEnvelope, verifyAnnouncement } from './batch.js';
import { type ContentStore, verifyBlock } from './content-store.js';

export const BLOCKS_PROTOCOL = '/dso/blocks/1.0.0';
const MAX_CIDS_PER_REQUEST = 1024;

export interface P2POptions extends BatchDomain {
  network: string;
  store: ContentStore;
  /** Listen addresses (default /ip4/127.0.0.1/tcp/0). */
  listen?: string[];
  /** Peers to dial at start (multiaddrs with /p2p/<peer id>). */
  peers?: string[];
  /** Called for each verified announcement from the network (not our own). */
  onAnnouncement?: (a: BatchAnnouncement, envelope: Uint8Array) => void;
}

type GossipService = ReturnType<ReturnType<typeof gossipsub>>;

export class P2PNode {
  readonly topic: string;
  private constructor(
    private readonly node: Libp2p<{ pubsub: GossipService; identify: unknown }>,
    private readonly opts: P2POptions,
  ) {
    this.topic = `/dso/${opts.network}/batches/1`;
  }

  static async start(opts: P2POptions): Promise<P2PNode> {
    const node = await createLibp2p({
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
    await this.node.handle(BLOCKS_PROTOCOL, (stream) => {
      void this.serveBlocks(stream);
    });
    await Promise.all((this.opts.peers ?? []).map((p) => this.dial(p)));
  }

  /** This node's listen addresses, with its peer id: what other nodes put in their peer lists. */
  get addresses(): string[] {
    return this.node.getMultiaddrs().map((m) => m.toString());
  }

  get peerId(): PeerId {
    return this.node.peerId;
  }

  async dial(address: string): Promise<void> {
    try {
      await this.node.dial(multiaddr(address));
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
   * the size limit; a peer that sends a wrong block is not asked again in
   * this call. Returns what was found (verified), and the peers that sent
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
    return { found, refused };
  }

  async stop(): Promise<void> {
    await this.node.stop();
  }
}
