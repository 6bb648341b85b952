/**
 * What every dso registry command starts from: the chain at --rpc-url, the
 * registry at --registry (checked to be one: NOT_A_REGISTRY otherwise) and
 * the account of --key (a node key file, as dso node writes it). Reads need
 * no key; a write without one is refused before anything is sent.
 */
import type { Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';

import { DsoError } from '../../core/errors.js';
import { type ChainConnection, connectChain } from '../../network/chain.js';
import { identityFromKey, loadNodeKey, type NodeIdentity } from '../../network/identity.js';
import { RegistryClient } from '../../network/registry.js';

export interface ChainFlags {
  rpcUrl: string;
  key?: string;
  json?: boolean;
}

export interface RegistryFlags extends ChainFlags {
  registry: Hex;
}

/** A fast poll: a command waits for its own receipt and nothing else. */
const POLL_MS = 250;

export async function openChain(o: ChainFlags): Promise<ChainConnection> {
  return connectChain(o.rpcUrl, { pollingInterval: POLL_MS });
}

/** The --key account; INVALID_KEY_FILE for a write without --key. */
export function signer(o: ChainFlags, what: string): NodeIdentity {
  if (!o.key) throw new DsoError('INVALID_KEY_FILE', `${what} sends a transaction: give the sending account's key file with --key FILE`);
  return loadNodeKey(o.key);
}

/** The registry, acting as --key's account (reads without --key act as a throwaway account that never signs). */
export async function openRegistry(o: RegistryFlags, write?: string): Promise<{ registry: RegistryClient; identity?: NodeIdentity }> {
  const identity = write ? signer(o, write) : o.key ? loadNodeKey(o.key) : undefined;
  const chain = await openChain(o);
  const registry = await RegistryClient.open(chain, identity ?? identityFromKey(generatePrivateKey()), o.registry);
  return { registry, identity };
}
