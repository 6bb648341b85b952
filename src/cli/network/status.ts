/** dso network status: each node's health, library, peers and batches, asked over its HTTP API with a deadline. */
import type { NetworkFile } from './layout.js';
import { alive } from './processes.js';

export interface NodeStatusRow {
  name: string;
  state: 'up' | 'down' | 'unresponsive';
  library?: number;
  peers?: number;
  member?: boolean | null;
  submitted?: number;
  accepted?: number;
  merged?: number;
  pending?: number;
  lastError?: string | null;
}

interface StatusBody {
  library: { size: number };
  p2p: { topicPeers: number } | null;
  metrics: { batchesSubmitted: number; batchesAccepted: number; experiencesMerged: number };
  sync?: {
    standing: { member: boolean } | null;
    last: { failures: { reason: string }[] } | null;
    pending: { open: number; toFetch: number } | null;
  };
}

export async function nodeStatus(net: NetworkFile): Promise<NodeStatusRow[]> {
  return Promise.all(
    net.nodes.map(async (n): Promise<NodeStatusRow> => {
      if (!alive(n.pid)) return { name: n.name, state: 'down' };
      try {
        const r = await fetch(`${n.http}/status`, { signal: AbortSignal.timeout(3000) });
        const s = (await r.json()) as StatusBody;
        return {
          name: n.name,
          state: 'up',
          library: s.library.size,
          peers: s.p2p?.topicPeers ?? 0,
          member: s.sync?.standing?.member ?? null,
          submitted: s.metrics.batchesSubmitted,
          accepted: s.metrics.batchesAccepted,
          merged: s.metrics.experiencesMerged,
          // Open batches on the chain plus accepted ones not fetched yet.
          pending: s.sync?.pending ? s.sync.pending.open + s.sync.pending.toFetch : undefined,
          lastError: s.sync?.last?.failures.at(-1)?.reason ?? null,
        };
      } catch {
        return { name: n.name, state: 'unresponsive' };
      }
    }),
  );
}
