/** Development-chain controls (snapshots, mining, the clock) for a ChainConnection, in-process or anvil. */
import {
  type Chain,
  createTestClient,
  type Hex,
  keccak256,
  parseEther,
  type PublicActions,
  publicActions,
  type TestClient,
  toHex,
  type Transport,
} from 'viem';

import type { ChainConnection } from '../../src/network/chain.js';
import { identityFromKey, type NodeIdentity } from '../../src/network/identity.js';

export type DevChain = TestClient<'anvil' | 'hardhat', Transport, Chain> & PublicActions<Transport, Chain>;

export function devChain(conn: ChainConnection): DevChain {
  return createTestClient({
    mode: conn.where === 'in-process' ? 'hardhat' : 'anvil',
    chain: conn.chain,
    transport: conn.transport,
  }).extend(publicActions);
}

/** `n` deterministic accounts named after `label`, funded on `conn`. */
export async function fundedAccounts(conn: ChainConnection, label: string, n: number): Promise<NodeIdentity[]> {
  const ids = Array.from({ length: n }, (_, i) => identityFromKey(keccak256(toHex(`${label} ${i}`))));
  for (const id of ids) await conn.fund(id.address, parseEther('100'));
  return ids;
}

export const root = (s: string): Hex => keccak256(toHex(s));
