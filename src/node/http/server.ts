/**
 * The HTTP API of `dso node` (fastify), with the limits that keep it up among
 * untrusted callers: every request and its headers have deadlines, keep-alive
 * is bounded, open connections are capped (shedding slow ones, see
 * connections.ts), bodies are JSON only and bounded, schemas refuse unknown
 * fields and never coerce, and the access rules of security.ts apply.
 */
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

import Fastify, { type FastifyInstance } from 'fastify';

import { DsoError } from '../../core/errors.js';
import type { DsoNode } from '../dso-node.js';
import { NodeMetrics } from '../metrics.js';
import { ConnectionGuard } from './connections.js';
import { installErrorHandler } from './errors.js';
import { installRoutes } from './routes.js';
import { installAccessRules, isLoopback } from './security.js';

export interface HttpApiOptions {
  logger?: boolean | object;
}

function version(): string {
  return (createRequire(import.meta.url)('dso-engine/package.json') as { version: string }).version;
}

export async function buildHttpApi(node: DsoNode, opts: HttpApiOptions = {}): Promise<FastifyInstance> {
  const http = node.config.http;
  if (http.auth === 'none' && !isLoopback(http.host)) {
    throw new DsoError(
      'INVALID_CONFIG',
      `http.auth 'none' is only allowed on loopback; ${http.host} would expose the node without a token`,
    );
  }
  const connections = new ConnectionGuard({
    max: http.maxConnections,
    headersTimeoutMs: http.headersTimeoutMs,
    requestTimeoutMs: http.requestTimeoutMs,
  });
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: http.bodyLimit,
    // Validation refuses what does not fit: no coercion of "0.9" or true to numbers, no silently dropped fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    serverFactory: (handler) => {
      const server: Server = createServer(
        {
          requestTimeout: http.requestTimeoutMs,
          headersTimeout: http.headersTimeoutMs,
          keepAliveTimeout: http.keepAliveTimeoutMs,
          connectionsCheckingInterval: 1000,
        },
        handler,
      );
      server.maxRequestsPerSocket = http.maxRequestsPerSocket;
      connections.attach(server);
      return server;
    },
  });
  // Bodies are JSON or nothing: a text/plain body is what a cross-site form or beacon can send without a preflight.
  app.removeContentTypeParser('text/plain');
  const metrics = new NodeMetrics(node, () => ({ open: connections.size, shed: connections.shed + connections.timedOut }));

  // While closing, a request still in flight (a sync) gets its answer and then its connection closes:
  // left open, an idle keep-alive connection would hold close() for the keep-alive timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('preHandler', async (req) => connections.serving(req.raw.socket, true));
  app.addHook('onResponse', async (req) => connections.serving(req.raw.socket, false));

  installAccessRules(
    app,
    { host: http.host, port: http.port, token: node.httpToken, allowedHosts: http.allowedHosts, allowedOrigins: http.allowedOrigins },
    () => (app.server.address() as AddressInfo | null)?.port ?? http.port,
  );
  installErrorHandler(app);
  installRoutes(app, node, metrics, version());
  return app;
}
