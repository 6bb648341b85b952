/**
 * Who may call the API. Trusted: the operator. Not trusted: other local
 * processes, and any web page the operator's browser opens (DNS rebinding,
 * cross-site requests). So: the Host header must name the address the node
 * is bound to (a rebound hostname is refused); a request carrying an Origin
 * is refused unless that origin is configured; write endpoints need the
 * bearer token, and off loopback every endpoint but /health does.
 */
import { isIP } from 'node:net';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import { DsoError } from '../../core/errors.js';
import { bearerMatches } from './token.js';

export interface AccessRules {
  /** The address the server is bound to, as configured. */
  host: string;
  port: number;
  token?: string;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/u.test(host);
}

/** Host header values that name this server: its own address forms with the port, and configured extras. */
function hostNames(r: AccessRules, port: number): Set<string> {
  const names = new Set(r.allowedHosts.map((h) => h.toLowerCase()));
  const bare = r.host.replace(/^\[|\]$/gu, '');
  const forms = isLoopback(bare)
    ? ['localhost', '127.0.0.1', '[::1]', bare.includes(':') ? `[${bare}]` : bare]
    : [isIP(bare) === 6 ? `[${bare}]` : bare];
  for (const f of forms) {
    names.add(`${f}:${port}`);
    if (port === 80) names.add(f);
  }
  return names;
}

/** Requests that change the node; the rest read. */
export const WRITE = { write: true } as const;

export function installAccessRules(app: FastifyInstance, r: AccessRules, port: () => number): void {
  const loopback = isLoopback(r.host.replace(/^\[|\]$/gu, ''));
  // A wildcard bind answers to any name; the token guards it (every endpoint needs it off loopback).
  const checkHost = loopback || r.allowedHosts.length > 0;
  let names: Set<string> | undefined;
  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (checkHost) {
      names ??= hostNames(r, port());
      const host = (req.headers.host ?? '').toLowerCase();
      if (!names.has(host)) throw new DsoError('FORBIDDEN', `Host '${req.headers.host ?? ''}' is not this node's address`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !r.allowedOrigins.includes(origin)) {
      throw new DsoError('FORBIDDEN', `requests from web origin '${origin}' are not allowed (http.allowedOrigins)`);
    }
    const write = (req.routeOptions.config as { write?: boolean } | undefined)?.write === true;
    const needsToken = write || (!loopback && req.routeOptions.url !== '/health');
    if (needsToken && r.token !== undefined && !bearerMatches(req.headers.authorization, r.token)) {
      throw new DsoError(
        'UNAUTHORIZED',
        `${req.method} ${req.routeOptions.url ?? req.url} needs 'Authorization: Bearer <token>' (the token file is in the node's data directory)`,
      );
    }
  });
}
