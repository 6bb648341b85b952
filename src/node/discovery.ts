/**
 * Peers from the chain: a member announces where its node listens in the
 * registry (setEndpoint), and every node, member or not, reads the members'
 * endpoints and keeps a connection to each (P2PNode.keepConnected: dialled
 * with backoff, again after a peer restarts), so a node configured with only
 * rpcUrl and registryAddress finds the others. Configured peers stay; this
 * adds to them.
 *
 * It runs beside the node, never in its way: a round that fails (no funds
 * for the announcement, a revert, an unreachable chain) logs one line, shows
 * in status(), and is tried again at the next round. Rounds repeat, so
 * members who join or move later are found; endpoints of members gone since
 * are no longer kept.
 */
import { isAddressEqual } from 'viem';

import type { DsoError } from '../core/errors.js';
import { formatEndpoint } from '../network/endpoints.js';
import type { P2PNode } from '../network/p2p-node.js';
import type { RegistryClient } from '../network/registry.js';

/** How often the endpoints are read again by default (one eth_call per 500 members). */
export const DISCOVERY_REFRESH_MS = 15_000;
/** Members whose endpoints are read at most: what one node dials is bounded whatever the registry holds. */
export const DISCOVERY_MAX_MEMBERS = 1000;

export interface DiscoveryOptions {
  registry: RegistryClient;
  p2p: P2PNode;
  /** Peers the configuration names: kept by the p2p node already, never released here. */
  configured?: readonly string[];
  refreshMs?: number;
  maxMembers?: number;
  log: (line: string) => void;
}

export interface DiscoveryStatus {
  /** What this node announced (or found already announced); null until then, or when it is not a member. */
  announced: string | null;
  /** Members' peers found on chain in the last round (this node's own left out). */
  discovered: number;
  rounds: number;
  /** The last round's failure (`CODE: message`), null after a round that went through. */
  lastError: string | null;
}

export class PeerDiscovery {
  readonly status: DiscoveryStatus = { announced: null, discovered: 0, rounds: 0, lastError: null };
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** Addresses this discovery asked the p2p node to keep (configured peers are not its to release). */
  private readonly kept = new Set<string>();

  constructor(private readonly o: DiscoveryOptions) {}

  start(): void {
    const tick = () => {
      this.running = this.round().finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        this.timer = setTimeout(tick, this.o.refreshMs ?? DISCOVERY_REFRESH_MS);
        this.timer.unref();
      });
    };
    tick();
  }

  /** Ends the rounds; waits for the running one. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async round(): Promise<void> {
    const failures: string[] = [];
    const fail = (what: string, e: unknown) => failures.push(`${(e as DsoError).code ?? 'ERROR'}: ${what}: ${(e as Error).message}`);
    try {
      await this.announce();
    } catch (e) {
      fail('cannot announce this node in the registry', e);
    }
    if (!this.stopped) {
      try {
        await this.dial();
      } catch (e) {
        fail("cannot read the members' endpoints", e);
      }
    }
    this.status.rounds += 1;
    const error = failures.length > 0 ? failures.join('; ') : null;
    // One line per new failure, not one per round.
    if (error !== null && error !== this.status.lastError) this.o.log(`discovery: ${error}`);
    if (error === null && this.status.lastError !== null) this.o.log('discovery: working again');
    this.status.lastError = error;
  }

  /** A member whose announced endpoint is not where it listens now sets it. */
  private async announce(): Promise<void> {
    const { registry, p2p } = this.o;
    if (!(await registry.isMember())) {
      this.status.announced = null;
      return;
    }
    const current = formatEndpoint(p2p.addresses);
    if ((await registry.endpoint()) !== current) {
      await registry.setEndpoint(current);
      this.o.log(`discovery: announced ${current}`);
    }
    this.status.announced = current;
  }

  private async dial(): Promise<void> {
    const { registry, p2p } = this.o;
    const self = p2p.peerId.toString();
    const found = (await registry.memberEndpoints(this.o.maxMembers ?? DISCOVERY_MAX_MEMBERS)).filter(
      (m) => !isAddressEqual(m.account, registry.account),
    );
    const now = new Set<string>();
    for (const m of found) {
      m.addresses.forEach((address, i) => {
        if (m.peers[i] !== self && !this.o.configured?.includes(address)) now.add(address);
      });
    }
    for (const address of now) {
      if (this.stopped) return;
      if (!this.kept.has(address)) {
        this.kept.add(address);
        p2p.keepConnected(address);
      }
    }
    for (const address of [...this.kept]) {
      if (now.has(address)) continue;
      this.kept.delete(address);
      p2p.release(address);
    }
    this.status.discovered = new Set(found.flatMap((m) => m.peers.filter((p) => p !== self))).size;
  }
}
