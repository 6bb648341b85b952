/**
 * The endpoints of `dso node`, each declared once here: GET / lists them
 * from this table, and the README documents the same list.
 */
import type { FastifyInstance } from 'fastify';

import { formatExperiences } from '../../experience/prompt.js';
import type { DsoNode } from '../dso-node.js';
import type { NodeMetrics } from '../metrics.js';
import * as schema from './schemas.js';
import { WRITE } from './security.js';

export const ENDPOINTS: ReadonlyArray<{ method: 'GET' | 'POST'; path: string; write: boolean; what: string }> = [
  { method: 'GET', path: '/', write: false, what: 'this list, the node name and version' },
  { method: 'GET', path: '/health', write: false, what: '{ ok: true } while the node serves' },
  { method: 'GET', path: '/status', write: false, what: 'node id, library, chain, p2p peers, sync counters' },
  { method: 'GET', path: '/metrics', write: false, what: 'Prometheus metrics' },
  { method: 'GET', path: '/experiences', write: false, what: 'the library, paged (?limit=100&offset=0)' },
  {
    method: 'POST',
    path: '/retrieve',
    write: false,
    what: '{ query, k?, domain?, minSimilarity? } -> experiences and the prompt block to inject',
  },
  {
    method: 'POST',
    path: '/experiences',
    write: true,
    what: '{ experiences: [{ text, domain?, confidence?, metadata? }] } -> added, outcomes',
  },
  {
    method: 'POST',
    path: '/rollouts',
    write: true,
    what: '{ query, groundTruth, responses, domain?, experiencesUsed? }: learn from rollouts the agent ran',
  },
  { method: 'POST', path: '/learn', write: true, what: '{ query, groundTruth, domain? }: run the rollouts with the configured model' },
  { method: 'POST', path: '/sync', write: true, what: 'share, vote, fetch and merge now' },
];

export function installRoutes(app: FastifyInstance, node: DsoNode, metrics: NodeMetrics, version: string): void {
  app.get('/', async () => ({
    name: 'dso node',
    version,
    nodeId: node.nodeId,
    endpoints: ENDPOINTS.map((e) => ({ ...e, auth: e.write ? 'bearer token' : 'none on loopback' })),
  }));

  app.get('/health', async () => ({ ok: true }));

  app.get('/status', async () => ({
    nodeId: node.nodeId,
    network: node.config.enabled ? node.config.network : null,
    library: { namespace: node.library.namespace, size: node.library.size, capacity: node.library.capacity, epoch: node.library.epoch },
    learning: node.optimizer !== undefined,
    chain: node.network
      ? { where: node.network.chain.where, chainId: node.network.chain.chain.id, registry: node.network.registry.address }
      : null,
    p2p: node.network
      ? {
          addresses: node.network.p2p.addresses,
          topicPeers: node.network.p2p.topicPeers(),
          kept: node.network.p2p.keptPeers(),
          discovery: node.network.discovery?.status ?? null,
        }
      : null,
    metrics: node.trainer.metrics,
    syncFrequency: node.trainer.syncFrequency,
    // What the last sync saw and did (this account's standing, failures tried again next time) and what waits on the chain.
    sync: {
      standing: node.trainer.lastStanding ?? null,
      last: node.trainer.last ?? null,
      pending: node.network ? node.network.aggregator.pending() : null,
    },
  }));

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get<{ Querystring: { limit?: string; offset?: string } }>(
    '/experiences',
    { schema: { querystring: schema.listExperiences } },
    async (req) => {
      const all = node.library.list();
      const offset = Number(req.query.offset ?? 0);
      const limit = Math.min(10_000, Math.max(1, Number(req.query.limit ?? 100)));
      return { total: all.length, experiences: all.slice(offset, offset + limit).map(({ embedding: _e, code: _c, ...rest }) => rest) };
    },
  );

  app.post<{ Body: { query: string; k?: number; domain?: string; minSimilarity?: number } }>(
    '/retrieve',
    { schema: { body: schema.retrieve } },
    async (req) => {
      const t0 = performance.now();
      const found = await node.library.retrieve(req.body.query, {
        k: req.body.k ?? 5,
        domain: req.body.domain,
        minSimilarity: req.body.minSimilarity ?? node.library.defaultMinSimilarity,
      });
      metrics.retrieval.observe((performance.now() - t0) / 1000);
      return {
        experiences: found.map((f) => ({
          id: f.experience.id,
          text: f.experience.text,
          domain: f.experience.domain,
          confidence: f.experience.confidence,
          similarity: f.similarity,
        })),
        prompt: formatExperiences(found.map((f) => f.experience)).text,
      };
    },
  );

  app.post<{ Body: { experiences: { text: string; domain?: string; confidence?: number; metadata?: Record<string, unknown> }[] } }>(
    '/experiences',
    { schema: { body: schema.addExperiences }, config: WRITE },
    async (req) => {
      const r = await node.library.add(req.body.experiences);
      return { added: r.added, outcomes: r.outcomes, size: r.size };
    },
  );

  app.post<{ Body: { query: string; groundTruth: string; domain?: string; responses: string[]; experiencesUsed?: string[] } }>(
    '/rollouts',
    { schema: { body: schema.rollouts }, config: WRITE },
    async (req) => node.trainer.reportRollouts(req.body),
  );

  app.post<{ Body: { query: string; groundTruth: string; domain?: string } }>(
    '/learn',
    { schema: { body: schema.learn }, config: WRITE },
    async (req) => node.trainer.step(req.body),
  );

  app.post('/sync', { config: WRITE }, async () => node.trainer.sync());
}
