/**
 * A helia node (from npm) in a process of its own, the IPFS peer the interop
 * tests and the IPFS bench row talk to. It listens on 127.0.0.1 only and has
 * no bootstrap list, no peer discovery, no delegated routers and no HTTP
 * gateways: it reaches only the address it is told to dial. One JSON line on
 * stdout per result.
 *
 *   fetch <multiaddr> <manifest cid>   dial a dso node, fetch the batch by
 *       bitswap, walk the DAG: every block's hash, the Merkle root over the
 *       record list, every record's decoding; then exit.
 *   serve <car file> [<cid to tamper>] hold the CAR's blocks (one of them
 *       with its last byte flipped, to play a lying peer), print the
 *       listen address, and serve over bitswap until stdin closes.
 */
import '../../src/network/polyfill.js';

import { setMaxListeners } from 'node:events';
import { createReadStream } from 'node:fs';

import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { CarBlockIterator } from '@ipld/car';
import * as dagCbor from '@ipld/dag-cbor';
import { identify } from '@libp2p/identify';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { MemoryBlockstore } from 'blockstore-core';
import { createHelia } from 'helia';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';

import { decodeCompressed } from '../../src/bitdelta/wire.js';
import { merkleRoot } from '../../src/network/merkle.js';

/** Returns one block with its last byte flipped: what a lying peer sends. */
class TamperingBlockstore extends MemoryBlockstore {
  constructor(private readonly victim: string | undefined) {
    super();
  }
  override async *get(cid: CID): AsyncGenerator<Uint8Array> {
    for await (const part of super.get(cid)) {
      if (cid.toString() !== this.victim) {
        yield part;
        continue;
      }
      const bad = Uint8Array.from(part);
      bad[bad.length - 1] ^= 1;
      yield bad;
    }
  }
}

async function startHelia(blockstore = new MemoryBlockstore()) {
  const helia = createHelia({
    blockstore,
    libp2p: {
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery: [],
      services: { identify: identify() },
    },
    http: { delegatedRouters: [], recursiveGateways: [] },
  });
  await helia.start();
  return helia;
}

const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const [mode, ...args] = process.argv.slice(2);

if (mode === 'fetch') {
  const [address, manifestText] = args;
  const helia = await startHelia();
  const t0 = performance.now();
  await helia.libp2p.dial(multiaddr(address), { signal: AbortSignal.timeout(10_000) });
  const signal = AbortSignal.timeout(120_000);
  setMaxListeners(Infinity, signal);
  const read = async (cid: CID) => {
    const parts: Uint8Array[] = [];
    for await (const part of helia.blockstore.get(cid, { signal })) parts.push(part);
    const bytes = new Uint8Array(Buffer.concat(parts));
    const digest = await sha256.digest(bytes);
    if (Buffer.compare(Buffer.from(digest.digest), Buffer.from(cid.multihash.digest)) !== 0) throw new Error(`${String(cid)}: bad hash`);
    return bytes;
  };
  const manifestCid = CID.parse(manifestText);
  const manifestBytes = await read(manifestCid);
  const manifest = dagCbor.decode<{ root: Uint8Array; records: CID[]; node: string }>(manifestBytes);
  const rootOk = Buffer.compare(Buffer.from(merkleRoot(manifest.records.map((c) => c.bytes))), Buffer.from(manifest.root)) === 0;
  const texts: string[] = new Array<string>(manifest.records.length);
  let bytes = manifestBytes.byteLength;
  let next = 0;
  // The DAG walk: records fetched 256 at a time, as a helia application would.
  const worker = async () => {
    while (next < manifest.records.length) {
      const i = next++;
      const b = await read(manifest.records[i]);
      bytes += b.byteLength;
      const r = decodeCompressed(b, '');
      if (r.source.toLowerCase() !== manifest.node.toLowerCase()) throw new Error(`record ${i}: source ${r.source}`);
      texts[i] = r.text;
    }
  };
  await Promise.all(Array.from({ length: 256 }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const remotes = helia.libp2p.getConnections().map((c) => c.remoteAddr.toString());
  say({ records: texts.length, rootOk, texts, bytes, seconds, remotes, listen: helia.libp2p.getMultiaddrs().map(String) });
  await helia.stop();
} else if (mode === 'serve') {
  const [carFile, victim] = args;
  const blockstore = new TamperingBlockstore(victim);
  for await (const { cid, bytes } of await CarBlockIterator.fromIterable(createReadStream(carFile))) await blockstore.put(cid, bytes);
  const helia = await startHelia(blockstore);
  say({ addresses: helia.libp2p.getMultiaddrs().map(String) });
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
  say({ remotes: helia.libp2p.getConnections().map((c) => c.remoteAddr.toString()) });
  await helia.stop();
} else {
  throw new Error(`unknown mode ${mode}`);
}
