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
  membership?: { member: boolean } | null;
  sync?: { pending?: number; lastError?: string | null };
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
          member: s.membership?.member ?? null,
          submitted: s.metrics.batchesSubmitted,
          accepted: s.metrics.batchesAccepted,
          merged: s.metrics.experiencesMerged,
          pending: s.sync?.pending,
          lastError: s.sync?.lastError ?? null,
        };
      } catch {
        return { name: n.name, state: 'unresponsive' };
      }
    }),
  );
}
