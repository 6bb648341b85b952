/**
 * A trustless IPFS gateway over the node's blockstore (the IPFS Trustless
 * Gateway specification): GET or HEAD /ipfs/{cid} answers
 * application/vnd.ipld.raw (the one block) or application/vnd.ipld.car (the
 * DAG under it: a manifest and its records, an announcement and its batch),
 * chosen by ?format= or by Accept. Any trustless client (@helia/verified-fetch,
 * kubo, curl and a hash) checks what it gets against the CID, so nothing
 * here needs to be trusted.
 *
 * Read-only and local: a block this node does not hold is a 404, never a
 * fetch from peers (the specification's advice for gateways in P2P
 * networks, and no way for a caller to make the node fetch). Bounded: a CAR
 * holds at most MAX_CAR_BLOCKS blocks, read one at a time as the client reads
 * the response, and a child block that is missing or damaged ends the stream
 * with an error rather than a CAR that looks complete. The node's HTTP rules
 * (Host and Origin checks, timeouts) apply here as to every route.
 */
import { Readable } from 'node:stream';

import * as dagCbor from '@ipld/dag-cbor';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { createUnsafe } from 'multiformats/block';
import { CID } from 'multiformats/cid';
import { identity } from 'multiformats/hashes/identity';
import { sha256 } from 'multiformats/hashes/sha2';

import { DEFAULT_MAX_RECORDS } from '../network/batch.js';
import { type Block, carStream } from '../network/car.js';
import type { ContentStore } from '../network/content-store.js';

/** An announcement, its manifest and the largest batch's records. */
export const MAX_CAR_BLOCKS = DEFAULT_MAX_RECORDS + 2;

const RAW = 'application/vnd.ipld.raw';
const CAR = 'application/vnd.ipld.car';
const IMMUTABLE = 'public, max-age=29030400, immutable';

export interface GatewayOptions {
  /** The node's blockstore, or undefined when its network side is off (then every CID is a 404). */
  store: () => ContentStore | undefined;
}

interface CarParams {
  dups: boolean;
  scope: 'all' | 'block';
}

type Negotiated = { format: 'raw' } | { format: 'car'; car: CarParams } | { status: number; message: string };

function mediaRanges(accept: string): Array<{ type: string; params: Map<string, string>; q: number }> {
  return accept
    .split(',')
    .map((part) => {
      const [type, ...rest] = part.split(';').map((s) => s.trim());
      const params = new Map(
        rest.map((p) => {
          const [k, v = ''] = p.split('=');
          return [k.trim().toLowerCase(), v.trim().replace(/^"|"$/gu, '').toLowerCase()] as [string, string];
        }),
      );
      const q = Number(params.get('q') ?? '1');
      return { type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q);
}

/** The response type: ?format= first, then Accept (the specification's precedence); CAR options from both. */
function negotiate(query: Record<string, string | undefined>, accept: string | undefined): Negotiated {
  const format = query.format;
  const ranges = mediaRanges(accept ?? '');
  if (format !== undefined && format !== 'raw' && format !== 'car')
    return { status: 400, message: `format=${format}: this gateway answers format=raw and format=car` };
  const wanted = format ?? ranges.map((r) => (r.type === RAW ? 'raw' : r.type === CAR ? 'car' : undefined)).find(Boolean);
  if (wanted === undefined) {
    // No Accept, or only wildcards (*/*, application/*), names no response type: strict trustless mode says 400.
    return ranges.every((r) => r.type.endsWith('/*'))
      ? { status: 400, message: `a trustless gateway needs Accept: ${RAW} or ${CAR} (or ?format=raw|car)` }
      : { status: 406, message: `this gateway answers ${RAW} and ${CAR} only` };
  }
  if (wanted === 'raw') return { format: 'raw' };
  const params = ranges.find((r) => r.type === CAR)?.params ?? new Map<string, string>();
  const version = query['car-version'] ?? params.get('version') ?? '1';
  const order = query['car-order'] ?? params.get('order') ?? 'dfs';
  const dups = query['car-dups'] ?? params.get('dups') ?? 'n';
  if (version !== '1') return { status: 406, message: `CAR version ${version}: this gateway writes CARv1` };
  if (order !== 'dfs' && order !== 'unk') return { status: 406, message: `CAR order ${order}: this gateway writes order=dfs` };
  if (dups !== 'y' && dups !== 'n') return { status: 400, message: `CAR dups=${dups}: expected y or n` };
  const scope = query['dag-scope'] ?? (query['entity-bytes'] !== undefined ? 'entity' : 'all');
  if (scope !== 'all' && scope !== 'entity' && scope !== 'block')
    return { status: 400, message: `dag-scope=${scope}: expected all, entity or block` };
  if (query['entity-bytes'] !== undefined && !/^-?\d+:(-?\d+|\*)$/u.test(query['entity-bytes']))
    return { status: 400, message: `entity-bytes=${query['entity-bytes']}: expected from:to` };
  // DAG-CBOR is no byte array: its entity is the block itself (entity-bytes is ignored, as the specification says).
  return { format: 'car', car: { dups: dups === 'y', scope: scope === 'all' ? 'all' : 'block' } };
}

/** The block a CID names: from the identity hash itself, or from the store (DAG-CBOR, sha2-256, verified on read). */
async function blockOf(store: ContentStore | undefined, cid: CID): Promise<Uint8Array | undefined> {
  if (cid.multihash.code === identity.code) return cid.multihash.digest;
  if (store === undefined || cid.version !== 1 || cid.code !== dagCbor.code || cid.multihash.code !== sha256.code) return undefined;
  return store.get(cid);
}

/** The DAG under `root`, depth first (links in order), at most MAX_CAR_BLOCKS blocks; identity blocks are left out. */
async function* walk(store: ContentStore | undefined, root: CID, rootBytes: Uint8Array, p: CarParams): AsyncGenerator<Block> {
  const seen = new Set<string>();
  const stack: Array<{ cid: CID; bytes?: Uint8Array }> = [{ cid: root, bytes: rootBytes }];
  let sent = 0;
  while (stack.length > 0) {
    const { cid, bytes: known } = stack.pop()!;
    const key = cid.toString();
    if (!p.dups && seen.has(key)) continue;
    seen.add(key);
    const bytes = known ?? (await blockOf(store, cid));
    if (bytes === undefined) throw new Error(`block ${key} of the DAG is not here`);
    if (cid.multihash.code !== identity.code) {
      if (++sent > MAX_CAR_BLOCKS) throw new Error(`the DAG has more than ${MAX_CAR_BLOCKS} blocks`);
      yield { cid, bytes };
    }
    if (p.scope === 'block' || cid.code !== dagCbor.code) continue;
    const links = [...createUnsafe({ bytes, cid, codec: dagCbor }).links()].map(([, link]) => link);
    if (stack.length + links.length > MAX_CAR_BLOCKS) throw new Error(`the DAG has more than ${MAX_CAR_BLOCKS} blocks`);
    for (let i = links.length - 1; i >= 0; i--) stack.push({ cid: links[i] });
  }
}

async function serve(req: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply, opts: GatewayOptions) {
  const query = req.query as Record<string, string | undefined>;
  const [cidText, ...path] = req.params['*'].split('/');
  const n = negotiate(query, req.headers.accept);
  if ('status' in n) return reply.code(n.status).send({ error: 'INVALID_ARGUMENT', message: n.message });
  if (path.some((s) => s !== '')) {
    return n.format === 'raw'
      ? reply.code(400).send({ error: 'INVALID_ARGUMENT', message: 'a raw block is requested by CID alone: /ipfs/{cid}' })
      : reply.code(501).send({ error: 'INVALID_ARGUMENT', message: 'this gateway does not resolve paths inside a DAG' });
  }
  let cid: CID;
  try {
    cid = CID.parse(cidText);
  } catch {
    return reply.code(400).send({ error: 'INVALID_ARGUMENT', message: `${cidText} is not a CID` });
  }
  const store = opts.store();
  const bytes = await blockOf(store, cid);
  if (bytes === undefined) {
    const onlyIfCached = /only-if-cached/iu.test(req.headers['cache-control'] ?? '');
    return reply.code(onlyIfCached ? 412 : 404).send({ error: 'NOT_FOUND', message: `this node does not hold ${cid.toString()}` });
  }
  const etag = n.format === 'raw' ? `"${cid.toString()}.raw"` : `"${cid.toString()}.car.${n.car.scope}.${n.car.dups ? 'dups' : 'nodups'}"`;
  reply
    .header('cache-control', IMMUTABLE)
    .header('etag', etag)
    .header('vary', 'Accept')
    .header('x-content-type-options', 'nosniff')
    .header('x-ipfs-path', `/ipfs/${cid.toString()}`)
    .header('x-ipfs-roots', cid.toString());
  if (req.headers['if-none-match'] === etag) return reply.code(304).send();
  if (n.format === 'raw') {
    reply
      .type(RAW)
      .header('content-disposition', `attachment; filename="${cid.toString()}.bin"`)
      .header('content-length', bytes.byteLength);
    return reply.send(req.method === 'HEAD' ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  reply
    .type(`${CAR}; version=1; order=dfs; dups=${n.car.dups ? 'y' : 'n'}`)
    .header('content-disposition', `attachment; filename="${cid.toString()}.car"`);
  if (req.method === 'HEAD') return reply.send();
  return reply.send(Readable.from(carStream(cid, walk(store, cid, bytes, n.car))));
}

/** Registers GET and HEAD /ipfs/* on the node's HTTP API. */
export const ipfsGateway: FastifyPluginAsync<GatewayOptions> = async (app, opts) => {
  app.route<{ Params: { '*': string } }>({
    method: ['GET', 'HEAD'],
    url: '/ipfs/*',
    exposeHeadRoute: false,
    handler: (req, reply) => serve(req, reply, opts),
  });
};
