/**
 * A node's libp2p identity, derived from its node key: an Ed25519 key whose
 * seed is a hash of the node key (identity.ts), so the node's peer id, and
 * with it every multiaddr others keep for it, survives restarts and can be
 * computed by whoever holds the key file (`dso network up` writes the peers
 * of each node's configuration before any node starts).
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';

import type { NodeIdentity } from './identity.js';

export function p2pPrivateKey(identity: NodeIdentity): Promise<PrivateKey> {
  return generateKeyPairFromSeed('Ed25519', identity.p2pSeed);
}

export async function p2pPeerId(identity: NodeIdentity): Promise<string> {
  return peerIdFromPrivateKey(await p2pPrivateKey(identity)).toString();
}
