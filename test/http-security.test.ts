/**
 * The node's HTTP API among untrusted callers (issue: reliability and
 * security): a token for write endpoints, Host and Origin checks against DNS
 * rebinding and cross-site requests, JSON bodies only, strict schemas, and
 * slow clients shed while /health keeps answering.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../src/node/config.js';
import { DsoNode } from '../src/node/dso-node.js';
import { buildHttpApi } from '../src/node/http/server.js';
import { errorCode } from './helpers/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-http-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let dirs = 0;

async function startNode(flags: Record<string, string> = {}, file?: Record<string, unknown>) {
  const dataDir = path.join(dir, `n${dirs++}`);
  const config = loadConfig({ env: {}, flags: { 'data-dir': dataDir, enabled: 'false', port: '0', ...flags } });
  const node = await DsoNode.start(file ? { ...config, http: { ...config.http, ...file } } : config);
  const app = await buildHttpApi(node);
  await app.listen({ host: config.http.host, port: 0 });
  const port = (app.server.address() as { port: number }).port;
  return { node, app, dataDir, url: `http://127.0.0.1:${port}`, port, auth: `Bearer ${node.httpToken}` };
}

async function stop(n: { node: DsoNode; app: FastifyInstance }) {
  await n.app.close();
  await n.node.stop();
}

const json = { 'content-type': 'application/json' };

/** A GET with exactly these headers (fetch will not send a Host of our choosing). */
function rawGet(port: number, urlPath: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP API access rules', () => {
  it('needs the bearer token for writes, not for reads on loopback; the token file is 0600', async () => {
    const n = await startNode();
    const file = path.join(n.dataDir, 'http.token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(n.node.httpToken);
    const body = JSON.stringify({ experiences: [{ text: 'When tokens are checked, writes are safe.' }] });
    expect((await fetch(`${n.url}/experiences`, { method: 'POST', headers: json, body })).status).toBe(401);
    expect((await fetch(`${n.url}/experiences`, { method: 'POST', headers: { ...json, authorization: 'Bearer 00' }, body })).status).toBe(
      401,
    );
    const bad = `Bearer ${'0'.repeat(64)}`;
    expect((await fetch(`${n.url}/sync`, { method: 'POST', headers: { authorization: bad } })).status).toBe(401);
    expect(n.node.library.size).toBe(0);
    expect((await fetch(`${n.url}/experiences`, { method: 'POST', headers: { ...json, authorization: n.auth }, body })).status).toBe(200);
    for (const p of ['/health', '/status', '/metrics', '/experiences', '/']) expect((await fetch(`${n.url}${p}`)).status, p).toBe(200);
    const r = await fetch(`${n.url}/retrieve`, { method: 'POST', headers: json, body: JSON.stringify({ query: 'are writes safe' }) });
    expect(r.status).toBe(200);
    const index = (await (await fetch(`${n.url}/`)).json()) as { name: string; endpoints: Array<{ path: string; write: boolean }> };
    expect(index.name).toBe('dso node');
    expect(index.endpoints.filter((e) => e.write).map((e) => e.path)).toEqual(['/experiences', '/rollouts', '/learn', '/sync']);
    await stop(n);
    // The same token at the next start; a token file others can read is refused.
    const again = await DsoNode.start(loadConfig({ env: {}, flags: { 'data-dir': n.dataDir, enabled: 'false' } }));
    expect(again.httpToken).toBe(n.node.httpToken);
    await again.stop();
    chmodSync(file, 0o644);
    expect(await errorCode(DsoNode.start(loadConfig({ env: {}, flags: { 'data-dir': n.dataDir, enabled: 'false' } })))).toBe(
      'INVALID_KEY_FILE',
    );
  });

  it('refuses a rebound Host, a foreign Origin (even with no body) and text/plain bodies', async () => {
    const n = await startNode({}, { allowedOrigins: ['http://dashboard.local'] });
    const rebind = await rawGet(n.port, '/experiences', { host: 'rebind.attacker.example' });
    expect(rebind.status).toBe(403);
    expect((JSON.parse(rebind.body) as { error: string }).error).toBe('FORBIDDEN');
    const cross = await fetch(`${n.url}/sync`, { method: 'POST', headers: { origin: 'http://evil.example', authorization: n.auth } });
    expect(cross.status).toBe(403);
    expect(n.node.trainer.metrics.syncs).toBe(0);
    const allowed = await fetch(`${n.url}/status`, { headers: { origin: 'http://dashboard.local' } });
    expect(allowed.status).toBe(200);
    const plain = await fetch(`${n.url}/experiences`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: n.auth },
      body: JSON.stringify({ experiences: [{ text: 'When a form posts text, refuse it.' }] }),
    });
    expect(plain.status).toBe(415);
    expect(n.node.library.size).toBe(0);
    for (const host of [`localhost:${n.port}`, `127.0.0.1:${n.port}`, `[::1]:${n.port}`]) {
      expect((await rawGet(n.port, '/health', { host })).status, host).toBe(200);
    }
    expect((await rawGet(n.port, '/health', { host: `127.0.0.1:${n.port + 1}` })).status).toBe(403);
    await stop(n);
  });

  it('never coerces: a string or boolean confidence and unknown fields are 400s', async () => {
    const n = await startNode();
    const post = (body: unknown) =>
      fetch(`${n.url}/experiences`, { method: 'POST', headers: { ...json, authorization: n.auth }, body: JSON.stringify(body) });
    for (const c of ['0.9', true]) {
      const r = await post({ experiences: [{ text: 'When types are strict, nothing is guessed.', confidence: c }] });
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ error: 'INVALID_ARGUMENT', field: 'experiences.0.confidence' });
    }
    const extra = await post({ experiences: [{ text: 'When a field is unknown, say so.', colour: 'red' }] });
    expect(extra.status).toBe(400);
    expect(await extra.json()).toMatchObject({ field: 'experiences.0.colour', message: 'experiences.0.colour is not a known field' });
    const q = await fetch(`${n.url}/experiences?limit=ten`);
    expect(q.status).toBe(400);
    expect(n.node.library.size).toBe(0);
    await stop(n);
  });

  it('refuses to expose a node off loopback without a token; off loopback every endpoint but /health needs it', async () => {
    const dataDir = path.join(dir, `n${dirs++}`);
    const open = loadConfig({ env: {}, flags: { 'data-dir': dataDir, enabled: 'false', host: '0.0.0.0', 'http-auth': 'none' } });
    const node = await DsoNode.start(open);
    expect(await errorCode(buildHttpApi(node))).toBe('INVALID_CONFIG');
    await node.stop();
    const tokened = await DsoNode.start(loadConfig({ env: {}, flags: { 'data-dir': dataDir, enabled: 'false', host: '0.0.0.0' } }));
    const app = await buildHttpApi(tokened);
    // Injected, not bound: nothing listens beyond loopback in tests.
    expect((await app.inject({ url: '/health', headers: { host: 'node.example:8787' } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/status', headers: { host: 'node.example:8787' } })).statusCode).toBe(401);
    const ok = await app.inject({ url: '/status', headers: { host: 'node.example:8787', authorization: `Bearer ${tokened.httpToken}` } });
    expect(ok.statusCode).toBe(200);
    await app.close();
    await tokened.stop();
  });
});

/** A connection that sends part of a request and then nothing. */
function slowSocket(port: number, partial: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(partial);
      resolve(s);
    });
    // Read whatever comes back (a 401, a 408), so the close after it is seen.
    s.resume();
    s.on('error', () => undefined);
    s.once('error', reject);
  });
}

describe('HTTP API under slow clients', () => {
  it('sheds slow connections past the cap, times out slow headers and bodies, and /health keeps answering', async () => {
    const n = await startNode({}, { maxConnections: 20, headersTimeoutMs: 400, requestTimeoutMs: 800 });
    const sockets: Socket[] = [];
    let closed = 0;
    for (let i = 0; i < 60; i++) {
      const partial =
        i % 2
          ? 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n'
          : `POST /experiences HTTP/1.1\r\nHost: 127.0.0.1:${n.port}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"exp`;
      const s = await slowSocket(n.port, partial);
      s.once('close', () => closed++);
      sockets.push(s);
    }
    const t0 = performance.now();
    const health = await fetch(`${n.url}/health`);
    expect(health.status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(2000);
    // Past the cap of 20, the oldest slow connections were closed to make room (41: the health check's own connection too pushed one out).
    const metrics = await (await fetch(`${n.url}/metrics`)).text();
    expect(Number(/dso_http_connections_shed_total (\d+)/u.exec(metrics)?.[1])).toBeGreaterThanOrEqual(40);
    // The rest are closed by the header and body deadlines.
    for (let i = 0; i < 50 && closed < 60; i++) await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(60);
    for (const s of sockets) s.destroy();
    await stop(n);
  }, 30_000);
});
