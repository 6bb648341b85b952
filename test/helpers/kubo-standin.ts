/**
 * A local stand-in for kubo's RPC API, for the pinning tests (no kubo
 * binary can be fetched here). It speaks POST /api/v0/dag/import as kubo
 * does: a multipart body of CAR files; every block is checked against its
 * CID; with pin-roots (the default) each root is pinned recursively, which
 * needs every block it links to; the answer is one JSON line per root,
 * {"Root":{"Cid":{"/":...},"PinErrorMsg":...}}. Errors are kubo's
 * {"Message","Code","Type":"error"} with status 500, and any other route is
 * a 404 as on kubo. `mode` makes it fail or hang.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { CarBlockIterator } from '@ipld/car';
import * as dagCbor from '@ipld/dag-cbor';
import { createUnsafe } from 'multiformats/block';
import type { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';

export interface KuboStandIn {
  url: string;
  blocks: Map<string, Uint8Array>;
  pins: Set<string>;
  mode: 'ok' | 'error' | 'hang';
  close(): Promise<void>;
}

async function linksOf(cid: CID, bytes: Uint8Array): Promise<CID[]> {
  if (cid.code !== dagCbor.code) return [];
  return [...createUnsafe({ bytes, cid, codec: dagCbor }).links()].map(([, link]) => link);
}

export async function startKuboStandIn(): Promise<KuboStandIn> {
  const state: KuboStandIn = { url: '', blocks: new Map(), pins: new Set(), mode: 'ok', close: async () => {} };
  const error = (res: ServerResponse, status: number, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Message: message, Code: 0, Type: 'error' }));
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api/v0/dag/import') return error(res, 404, '404 page not found');
    if (req.method !== 'POST') return error(res, 405, `${req.method} not allowed`);
    if (state.mode === 'hang') return; // never answers
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (state.mode === 'error') return error(res, 500, 'blockstore: no space left on device');
        const form = await new Response(Buffer.concat(chunks), {
          headers: { 'content-type': req.headers['content-type'] ?? '' },
        }).formData();
        const roots: CID[] = [];
        for (const part of form.values()) {
          if (typeof part === 'string') continue;
          const car = await CarBlockIterator.fromBytes(new Uint8Array(await part.arrayBuffer()));
          roots.push(...(await car.getRoots()));
          for await (const { cid, bytes } of car) {
            const digest = await sha256.digest(bytes);
            if (Buffer.compare(Buffer.from(digest.digest), Buffer.from(cid.multihash.digest)) !== 0)
              return error(res, 500, `block ${cid.toString()} does not match its hash`);
            state.blocks.set(cid.toString(), bytes);
          }
        }
        const lines: string[] = [];
        for (const root of url.searchParams.get('pin-roots') === 'false' ? [] : roots) {
          const stack = [root];
          let missing = '';
          while (stack.length > 0 && missing === '') {
            const c = stack.pop()!;
            const bytes = state.blocks.get(c.toString());
            if (bytes === undefined) missing = c.toString();
            else stack.push(...(await linksOf(c, bytes)));
          }
          if (missing === '') state.pins.add(root.toString());
          lines.push(JSON.stringify({ Root: { Cid: { '/': root.toString() }, PinErrorMsg: missing ? `block ${missing} not found` : '' } }));
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(lines.map((l) => `${l}\n`).join(''));
      })().catch((e: Error) => error(res, 500, e.message));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
