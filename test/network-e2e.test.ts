import { keccak256, parseEther, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ExperienceLibrary } from '../src/experience/index.js';
import { BitDeltaQuantizer } from '../src/index.js';
import { type BatchAnnouncement, buildBatch, encodeEnvelope } from '../src/network/batch.js';
import { type ChainConnection, startInProcessChain } from '../src/network/chain.js';
import { ContentStore } from '../src/network/content-store.js';
import { identityFromKey } from '../src/network/identity.js';
import { NetworkDSOAggregator } from '../src/network/network-aggregator.js';
import { P2PNode } from '../src/network/p2p-node.js';
import { RegistryClient } from '../src/network/registry.js';
import { revertReason } from './helpers/errors.js';

const NETWORK = 'dso-e2e';
const key = (s: string) => keccak256(toHex(`dso e2e ${s}`));
const [A, B, C, X, Y] = ['a', 'b', 'c', 'x', 'y'].map((s) => identityFromKey(key(s)));

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('three nodes on 127.0.0.1 exchange a batch end to end', () => {
  let chain: ChainConnection;
  let registryAddress: `0x${string}`;
  const nodes: { p2p: P2PNode; store: ContentStore; agg: NetworkDSOAggregator; heard: BatchAnnouncement[] }[] = [];
  let byz: P2PNode | undefined;

  beforeAll(async () => {
    chain = await startInProcessChain();
    for (const id of [A, B, C, X, Y]) await chain.fund(id.address, parseEther('10'));
    // X is a member too (only members submit), the one whose batch will not verify; Y is an outsider.
    const reg = await RegistryClient.deploy(chain, A, { votingPeriod: 3600, members: [A.address, B.address, C.address, X.address] });
    registryAddress = reg.address;
    let prev: string[] = [];
    for (const id of [A, B, C]) {
      const store = ContentStore.memory();
      const heard: BatchAnnouncement[] = [];
      // A line: B dials A, C dials B, so C reaches A's data only through B.
      const p2p = await P2PNode.start({
        network: NETWORK,
        chainId: chain.chain.id,
        registry: registryAddress,
        store,
        peers: prev,
        onAnnouncement: (a) => heard.push(a),
      });
      prev = p2p.addresses;
      const agg = new NetworkDSOAggregator({
        identity: id,
        registry: RegistryClient.at(chain, id, registryAddress),
        store,
        p2p,
        network: NETWORK,
        chainId: chain.chain.id,
        // A batch no peer can serve is voted down at once here; test/peer-blocks.test.ts covers the second chances.
        fetchTries: 1,
      });
      nodes.push({ p2p, store, agg, heard });
    }
    await waitFor(() => nodes[0].p2p.topicPeers() >= 1 && nodes[1].p2p.topicPeers() >= 2 && nodes[2].p2p.topicPeers() >= 1);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.p2p.stop()));
    await byz?.stop();
    await chain?.close();
  });

  it('submits, gossips, votes, accepts and fetches verified experiences', async () => {
    const lib = await ExperienceLibrary.open();
    await lib.add([
      { text: 'When an equation has x on both sides, collect the x terms first.', domain: 'math', confidence: 0.9 },
      { text: 'When a loop never ends, check that its counter changes.', domain: 'code', confidence: 0.8 },
      { text: 'When unsure, guess.', confidence: 0.3 },
    ]);
    const records = await new BitDeltaQuantizer().compressForNetwork(lib, { minConfidence: 0.7 });
    expect(records).toHaveLength(2);
    const [a, b, c] = nodes;
    const sent = await a.agg.submit(records);
    await waitFor(() => c.heard.some((h) => h.root === sent.announcement.root));
    expect(b.heard.map((h) => h.root)).toContain(sent.announcement.root);

    // The submission is A's yes; B's makes 2 of 4 members (quorum), C's 3 of 4 (past the 2/3 approval): accepted at once.
    const roundB = await b.agg.advance({ member: true });
    expect(roundB).toMatchObject({ votes: [{ batchId: sent.batchId, approve: true }], failures: [] });
    const reg = RegistryClient.at(chain, C, registryAddress);
    expect((await reg.getBatch(sent.batchId)).status).toBe('pending');
    const roundC = await c.agg.advance({ member: true });
    expect(roundC.votes).toEqual([{ batchId: sent.batchId, approve: true }]);
    expect((await reg.getBatch(sent.batchId)).status).toBe('accepted');
    // C's vote decided the batch, so the same round fetched it, endorsed by A, B and C.
    const [got] = roundC.accepted;
    expect(got.endorsers.sort()).toEqual([A.address, B.address, C.address].sort());
    expect(got.records.map((r) => r.text)).toEqual(records.map((r) => r.text));
    expect(got.records.map((r) => r.id)).toEqual(
      lib
        .list()
        .slice(0, 2)
        .map((e) => e.id),
    );
    expect(Array.from(got.records[0].code)).toEqual(Array.from(records[0].code));
    expect(got.records.every((r) => r.source === A.address)).toBe(true);
    expect((await c.agg.advance({ member: true })).accepted).toEqual([]);
    // Double and outsider votes are refused by the contract.
    // Voting is closed once accepted; the contract tests cover double votes on open batches.
    expect(await revertReason(b.agg.vote(sent.batchId, true))).toBe('CONTRACT_REVERTED:VotingClosed');
    expect(await revertReason(RegistryClient.at(chain, Y, registryAddress).vote(sent.batchId, true))).toBe(
      'CONTRACT_REVERTED:VotingClosed',
    );
    // Replaying the batch on chain is refused too, and outsiders cannot submit at all.
    expect(
      await revertReason(RegistryClient.at(chain, A, registryAddress).submitBatch(sent.announcement.root, sent.envelope.toString(), 2)),
    ).toBe('CONTRACT_REVERTED:AlreadySubmitted');
    expect(
      await revertReason(RegistryClient.at(chain, Y, registryAddress).submitBatch(sent.announcement.root, sent.envelope.toString(), 2)),
    ).toBe('CONTRACT_REVERTED:NotMember');
    await lib.close();
  }, 60_000);

  it('votes down a batch whose blocks are tampered, storing nothing of it, and drops forged gossip', async () => {
    const [a, b] = nodes;
    const rec = {
      id: 'x',
      text: 'When a peer lies, believe it.',
      code: new Uint8Array(48),
      scales: new Float32Array([0.5]),
      dim: 384,
      groupSize: 384,
      confidence: 1,
      domain: 'general',
      epoch: 0,
      source: '',
      createdAt: Date.now(),
    };
    const batch = await buildBatch([rec], { identity: X, network: NETWORK, chainId: chain.chain.id, registry: registryAddress });
    const honest = new Map<string, Uint8Array>([
      [batch.manifest.cid.toString(), batch.manifest.bytes],
      ...batch.records.map((r) => [r.cid.toString(), r.bytes] as [string, Uint8Array]),
    ]);
    const envelope = encodeEnvelope(batch.announcement);
    const lyingStore = {
      maxBlockBytes: 1 << 20,
      get: async (cid: { toString(): string }) => {
        const bytes = honest.get(cid.toString());
        if (bytes && cid.toString() === batch.records[0].cid.toString()) {
          // A copy (Buffer.slice would share memory and undo the change on the next call).
          const t = new Uint8Array(bytes);
          t[5] ^= 0xff;
          return t;
        }
        return bytes;
      },
    } as unknown as ContentStore;
    byz = await P2PNode.start({
      network: NETWORK,
      chainId: chain.chain.id,
      registry: registryAddress,
      store: lyingStore,
      peers: a.p2p.addresses,
    });
    await waitFor(() => byz!.topicPeers() >= 1);
    const xReg = RegistryClient.at(chain, X, registryAddress);
    const { cidOfBlock } = await import('../src/network/content-store.js');
    honest.set(cidOfBlock(envelope).toString(), envelope);
    const id = await xReg.submitBatch(batch.announcement.root, cidOfBlock(envelope).toString(), 1);
    await b.p2p.dial(byz.addresses[0]);
    const { votes } = await b.agg.advance({ member: true });
    expect(votes).toHaveLength(1);
    expect(votes[0]).toMatchObject({ batchId: id, approve: false });
    expect(votes[0].reason).toMatch(/CID_MISMATCH/u);
    expect(await b.store.has(batch.records[0].cid)).toBe(false);
    expect(await b.store.has(batch.manifest.cid)).toBe(false);

    // Forged gossip: X signs, but the envelope claims to come from A.
    const forged = encodeEnvelope({ ...batch.announcement, node: A.address });
    const before = b.heard.length;
    await byz.publish(forged);
    // A well-formed announcement from X itself does arrive, so the gossip path is open.
    await byz.publish(envelope);
    await waitFor(() => b.heard.some((h) => h.root === batch.announcement.root && h.node === X.address));
    expect(b.heard.slice(before).every((h) => h.node === X.address)).toBe(true);
  }, 60_000);
});
