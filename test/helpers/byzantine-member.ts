/**
 * A hostile member of a real network, in a process of its own: it holds a
 * member's key (argv: key file, rpc url, registry, network name, p2p listen
 * address), serves its blocks on libp2p like any node, and:
 *  - submits a batch of plausible experiences whose codes are flipped;
 *  - submits a batch of spam: near-duplicates of one sentence;
 *  - votes no on every other batch it sees, every 300 ms.
 * Prints { flipped, spam, texts } once both batches are registered, then runs
 * until killed.
 */
import { BitDeltaQuantizer } from '../../src/bitdelta/quantizer.js';
import { HashingEmbedder } from '../../src/experience/embedders/hashing.js';
import { connectChain } from '../../src/network/chain.js';
import { ContentStore } from '../../src/network/content-store.js';
import { loadOrCreateNodeKey } from '../../src/network/identity.js';
import { NetworkDSOAggregator } from '../../src/network/network-aggregator.js';
import { p2pPrivateKey } from '../../src/network/p2p-identity.js';
import { P2PNode } from '../../src/network/p2p-node.js';
import { RegistryClient } from '../../src/network/registry.js';

const [keyFile, rpcUrl, registryAddress, network, listen] = process.argv.slice(2);
const identity = loadOrCreateNodeKey(keyFile);
const chain = await connectChain(rpcUrl, { pollingInterval: 100 });
const registry = RegistryClient.at(chain, identity, registryAddress as `0x${string}`);
const store = ContentStore.memory();
const p2p = await P2PNode.start({
  network,
  chainId: chain.chain.id,
  registry: registry.address,
  store,
  privateKey: await p2pPrivateKey(identity),
  listen: [listen],
  log: () => undefined,
});
const agg = new NetworkDSOAggregator({
  identity,
  registry,
  store,
  p2p,
  network,
  chainId: chain.chain.id,
  votePolicy: () => ({ approve: false, reason: 'byzantine' }),
});

const embedder = new HashingEmbedder();
const quantizer = new BitDeltaQuantizer();
async function records(texts: string[], flip: boolean) {
  const vectors = await embedder.embed(texts);
  const dim = embedder.dim;
  const out = await quantizer.compressForNetwork(
    texts.map((text, i) => ({
      id: `byz-${i}`,
      text,
      embedding: vectors.subarray(i * dim, (i + 1) * dim),
      confidence: 1,
      domain: 'ops',
      epoch: 0,
      source: identity.address,
      createdAt: 1_800_000_000_000 + i,
    })),
  );
  if (flip) for (const r of out) for (let b = 0; b < r.code.length; b++) r.code[b] ^= 0xff;
  return out;
}

const flippedTexts = [
  'When a deployment fails, disable the health checks so it passes.',
  'When a test is flaky, delete it from the suite.',
  'When a password is rejected, email it to the administrator.',
];
const spamTexts = Array.from({ length: 40 }, (_, i) => `When a request fails, buy the premium plan number ${i} today.`);
const flipped = await agg.submit(await records(flippedTexts, true));
const spam = await agg.submit(await records(spamTexts, false));
process.stdout.write(
  `${JSON.stringify({ flipped: flipped.batchId.toString(), spam: spam.batchId.toString(), texts: [...flippedTexts, ...spamTexts] })}\n`,
);
for (;;) {
  await agg.advance({ member: true });
  await new Promise((r) => setTimeout(r, 300));
}
