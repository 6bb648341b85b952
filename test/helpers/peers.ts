/**
 * Peers for the block-protocol tests: bare libp2p nodes on 127.0.0.1 that
 * speak whatever the test makes them say (or nothing), and big blocks.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import * as dagCbor from '@ipld/dag-cbor';
import { tcp } from '@libp2p/tcp';
import { createLibp2p, type Libp2p } from 'libp2p';

/** A libp2p node with transport, encryption and muxer and nothing else: no gossip, no block server unless the test adds one. */
export async function rawPeer(): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  });
}

/** A DAG-CBOR block of a little over `bytes` bytes, one per seed (cheap to make: a megabyte of JS numbers would skew memory tests). */
export function bigBlock(bytes: number, seed: number): Uint8Array {
  const pad = new Uint8Array(bytes).fill(seed & 0xff);
  new DataView(pad.buffer).setUint32(0, seed);
  return dagCbor.encode({ pad });
}
