/**
 * The HTTP API of `dso node` (fastify): add experiences, retrieve them for a
 * query (with the prompt block ready to inject), report rollouts, learn from
 * a problem, sync, status, and Prometheus metrics. Bodies are checked against
 * JSON schemas; a bad request is a 400 naming the field; DsoErrors keep their
 * code in the response.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';

import { DsoError } from '../core/errors.js';
import { formatExperiences } from '../experience/prompt.js';
import type { DsoNode } from './dso-node.js';
import { NodeMetrics } from './metrics.js';

const STATUS_OF: Partial<Record<string, number>> = {
  BACKEND_UNAVAILABLE: 503,
  MODEL_ERROR: 502,
  MODEL_TIMEOUT: 504,
  MODEL_BAD_RESPONSE: 502,
  CHAIN_ERROR: 502,
  IO_ERROR: 502,
  DATABASE_ERROR: 500,
  LIBRARY_CLOSED: 503,
};

const text = { type: 'string', minLength: 1, maxLength: 4000 } as const;
const confidence = { type: 'number', minimum: 0, maximum: 1 } as const;

export async function buildHttpApi(node: DsoNode, opts: { logger?: boolean | object } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 4 << 20 });
  const metrics = new NodeMetrics(node);
  // While closing, a request still in flight (a sync) gets its answer and then its connection closes:
  // left open, an idle keep-alive connection would hold close() for the 72 s keep-alive timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  app.setErrorHandler((err: FastifyError | DsoError, _req, reply) => {
    if ((err as FastifyError).validation) {
      const v = (err as FastifyError).validation?.[0];
      const missing = (v?.params as { missingProperty?: string } | undefined)?.missingProperty;
      const field = [v?.instancePath?.replace(/^\//u, '').replace(/\//gu, '.'), missing].filter(Boolean).join('.') || undefined;
      const message = missing
        ? `${field} is required`
        : `${field ?? (err as FastifyError).validationContext ?? 'body'} ${v?.message ?? 'is invalid'}`;
      return reply.code(400).send({ error: 'INVALID_ARGUMENT', field, message });
    }
    if (err instanceof DsoError) {
      const status = STATUS_OF[err.code] ?? 400;
      return reply.code(status).send({ error: err.code, message: err.message });
    }
    const status = err.statusCode ?? 500;
    return reply.code(status).send({ error: status === 500 ? 'INTERNAL' : 'INVALID_ARGUMENT', message: err.message });
  });

  app.get('/health', async () => ({ ok: true }));

  app.get('/status', async () => ({
    nodeId: node.nodeId,
    network: node.config.enabled ? node.config.network : null,
    library: { namespace: node.library.namespace, size: node.library.size, capacity: node.library.capacity, epoch: node.library.epoch },
    learning: node.optimizer !== undefined,
    chain: node.network
      ? { where: node.network.chain.where, chainId: node.network.chain.chain.id, registry: node.network.registry.address }
      : null,
    p2p: node.network ? { addresses: node.network.p2p.addresses, topicPeers: node.network.p2p.topicPeers() } : null,
    metrics: node.trainer.metrics,
    syncFrequency: node.trainer.syncFrequency,
  }));

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.post<{ Body: { experiences: { text: string; domain?: string; confidence?: number; metadata?: Record<string, unknown> }[] } }>(
    '/experiences',
    {
      schema: {
        body: {
          type: 'object',
          required: ['experiences'],
          additionalProperties: false,
          properties: {
            experiences: {
              type: 'array',
              minItems: 1,
              maxItems: 10_000,
              items: {
                type: 'object',
                required: ['text'],
                additionalProperties: false,
                properties: { text, domain: { type: 'string', minLength: 1, maxLength: 100 }, confidence, metadata: { type: 'object' } },
              },
            },
          },
        },
      },
    },
    async (req) => {
      const r = await node.library.add(req.body.experiences);
      return { added: r.added, outcomes: r.outcomes, size: r.size };
    },
  );

  app.get<{ Querystring: { limit?: number; offset?: number } }>(
    '/experiences',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 10_000 }, offset: { type: 'integer', minimum: 0 } },
        },
      },
    },
    async (req) => {
      const all = node.library.list();
      const offset = req.query.offset ?? 0;
      const page = all.slice(offset, offset + (req.query.limit ?? 100));
      return { total: all.length, experiences: page.map(({ embedding: _e, code: _c, ...rest }) => rest) };
    },
  );

  app.post<{ Body: { query: string; k?: number; domain?: string; minSimilarity?: number } }>(
    '/retrieve',
    {
      schema: {
        body: {
          type: 'object',
          required: ['query'],
          additionalProperties: false,
          properties: {
            query: text,
            k: { type: 'integer', minimum: 1, maximum: 100 },
            domain: { type: 'string', minLength: 1 },
            minSimilarity: { type: 'number', minimum: -1, maximum: 1 },
          },
        },
      },
    },
    async (req) => {
      const t0 = performance.now();
      const found = await node.library.retrieve(req.body.query, {
        k: req.body.k ?? 5,
        domain: req.body.domain,
        minSimilarity: req.body.minSimilarity,
      });
      metrics.retrieval.observe((performance.now() - t0) / 1000);
      const block = formatExperiences(found.map((f) => f.experience));
      return {
        experiences: found.map((f) => ({
          id: f.experience.id,
          text: f.experience.text,
          domain: f.experience.domain,
          confidence: f.experience.confidence,
          similarity: f.similarity,
        })),
        prompt: block.text,
      };
    },
  );

  const problem = {
    query: text,
    groundTruth: { type: 'string', minLength: 1, maxLength: 1000 },
    domain: { type: 'string', minLength: 1, maxLength: 100 },
  };
  app.post<{ Body: { query: string; groundTruth: string; domain?: string; responses: string[]; experiencesUsed?: string[] } }>(
    '/rollouts',
    {
      schema: {
        body: {
          type: 'object',
          required: ['query', 'groundTruth', 'responses'],
          additionalProperties: false,
          properties: {
            ...problem,
            responses: { type: 'array', minItems: 2, maxItems: 64, items: { type: 'string', maxLength: 100_000 } },
            experiencesUsed: { type: 'array', maxItems: 100, items: { type: 'string' } },
          },
        },
      },
    },
    async (req) => node.trainer.reportRollouts(req.body),
  );

  app.post<{ Body: { query: string; groundTruth: string; domain?: string } }>(
    '/learn',
    { schema: { body: { type: 'object', required: ['query', 'groundTruth'], additionalProperties: false, properties: problem } } },
    async (req) => node.trainer.step(req.body),
  );

  app.post('/sync', async () => node.trainer.sync());

  return app;
}
