/**
 * A member's endpoint: the text it announces in the registry (setEndpoint)
 * so that others find its node: libp2p multiaddrs, separated by spaces, each
 * ending in /p2p/<peer id>. What comes from the chain was written by any
 * member, so it is bounded (bytes, addresses) and parsed address by address;
 * an address that does not parse, or names no peer, is dropped.
 */
import { multiaddr } from '@multiformats/multiaddr';

import { DsoError } from '../core/errors.js';

/** The contract's MAX_ENDPOINT_BYTES. */
export const MAX_ENDPOINT_BYTES = 512;
/** Addresses kept from one endpoint: a node listening on a few interfaces, not a list of targets to dial. */
export const MAX_ENDPOINT_ADDRESSES = 4;

/** Transports a node can dial (p2p-node.ts runs TCP only); anything else is not worth a dial. */
const HOSTS = new Set(['ip4', 'ip6', 'dns4', 'dns6', 'dns']);

/** `address` as a dialable multiaddr string with its peer id, or undefined. */
function dialable(address: string): { address: string; peer: string } | undefined {
  try {
    const parts = multiaddr(address).getComponents();
    if (parts.length !== 3 || !HOSTS.has(parts[0].name) || parts[1].name !== 'tcp' || parts[2].name !== 'p2p') return undefined;
    const port = Number(parts[1].value);
    if (!Number.isInteger(port) || port < 1 || port > 65535 || !parts[2].value) return undefined;
    return { address: multiaddr(address).toString(), peer: parts[2].value };
  } catch {
    return undefined;
  }
}

/** The dialable addresses of an endpoint read from the chain (at most MAX_ENDPOINT_ADDRESSES), each with its peer id. */
export function parseEndpoint(text: string): Array<{ address: string; peer: string }> {
  if (Buffer.byteLength(text) > MAX_ENDPOINT_BYTES) return [];
  const out: Array<{ address: string; peer: string }> = [];
  for (const word of text.split(/[\s,]+/u)) {
    if (out.length === MAX_ENDPOINT_ADDRESSES) break;
    const a = word === '' ? undefined : dialable(word);
    if (a && !out.some((o) => o.address === a.address)) out.push(a);
  }
  return out;
}

/**
 * The endpoint a node announces for its listen addresses: those a peer can
 * dial, as many as fit MAX_ENDPOINT_ADDRESSES and MAX_ENDPOINT_BYTES.
 * INVALID_ARGUMENT when there is none.
 */
export function formatEndpoint(addresses: readonly string[]): string {
  const kept: string[] = [];
  for (const a of addresses) {
    const d = dialable(a);
    if (!d || kept.includes(d.address) || kept.length === MAX_ENDPOINT_ADDRESSES) continue;
    if (Buffer.byteLength([...kept, d.address].join(' ')) > MAX_ENDPOINT_BYTES) continue;
    kept.push(d.address);
  }
  if (kept.length === 0)
    throw new DsoError('INVALID_ARGUMENT', `none of the listen addresses [${addresses.join(', ')}] is a dialable /tcp/.../p2p/... address`);
  return kept.join(' ');
}
