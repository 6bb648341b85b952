/**
 * The node's trustless gateway (GET /ipfs/{cid}): @helia/verified-fetch
 * reads a record through it and checks it against its CID; raw blocks and
 * CARs follow the Trustless Gateway specification (headers, negotiation,
 * probes, errors), and nothing on the gateway writes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { fallbackRouter } from '@helia/fallback-router';
import { withHTTP } from '@helia/http';
import { createVerifiedFetchWithHelia } from '@helia/verified-fetch';
import { CarReader } from '@ipld/car';
import * as dagCbor from '@ipld/dag-cbor';
import type { FastifyInstance } from 'fastify';
import { createHeliaLight } from 'helia';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeCompressed } from '../src/bitdelta/wire.js';
import { buildBatch, type BuiltBatch, encodeEnvelope } from '../src/network/batch.js';
import { identityFromKey } from '../src/network/identity.js';
import { loadConfig } from '../src/node/config.js';
import { DsoNode } from '../src/node/dso-node.js';
import { buildHttpApi } from '../src/node/http/server.js';
import { SAMPLE_DOMAIN, sampleRecords } from './helpers/records.js';

const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-gateway-'));
let node: DsoNode;
let app: FastifyInstance;
let url: string;
let batch: BuiltBatch;
let envelope: CID;

beforeAll(async () => {
  node = await DsoNode.start(loadConfig({ env: {}, flags: { 'data-dir': dir } }));
  batch = await buildBatch(sampleRecords(10, 5), { identity: identityFromKey(KEY), network: 'dso-main', ...SAMPLE_DOMAIN });
  const store = node.network!.store;
  await store.putVerified(batch.manifest.cid, batch.manifest.bytes);
  for (const r of batch.records) await store.putVerified(r.cid, r.bytes);
  envelope = await store.put(encodeEnvelope(batch.announcement));
  app = await buildHttpApi(node);
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A request over the node's real socket (its Host and Origin rules apply as to any caller). */
async function get(p: string, headers: Record<string, string> = {}, method = 'GET') {
  const r = await fetch(`${url}${p}`, { method, headers });
  const rawPayload = new Uint8Array(await r.arrayBuffer());
  return { statusCode: r.status, headers: Object.fromEntries(r.headers), rawPayload, body: Buffer.from(rawPayload).toString() };
}

async function hashMatches(cid: CID, bytes: Uint8Array): Promise<boolean> {
  return Buffer.compare(Buffer.from((await sha256.digest(bytes)).digest), Buffer.from(cid.multihash.digest)) === 0;
}

describe('trustless gateway: GET /ipfs/{cid}', () => {
  it('@helia/verified-fetch (helia over HTTP, this gateway its only source) reads a record and verifies it', async () => {
    // The gateway as the one content router (helia 7 waits forever with no router but a fallback one): no other source.
    const gateway = fallbackRouter({ gateways: [url], shuffle: false });
    const routers = [{ name: 'dso-gateway', findProviders: (cid: CID) => gateway.findProviders!(cid) }];
    const helia = withHTTP(createHeliaLight({ codecs: [dagCbor], routers }), {
      delegatedRouters: [],
      recursiveGateways: [],
      allowLocal: true,
      allowInsecure: true,
    });
    await helia.start();
    const verifiedFetch = await createVerifiedFetchWithHelia(helia);
    try {
      const record = batch.records[2];
      const res = await verifiedFetch(`ipfs://${record.cid.toString()}`, { headers: { accept: 'application/vnd.ipld.raw' } });
      expect(res.status).toBe(200);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(await hashMatches(record.cid, bytes)).toBe(true);
      expect(decodeCompressed(bytes, '').text).toBe(sampleRecords(10, 5)[2].text);
    } finally {
      await verifiedFetch.stop();
      await helia.stop();
    }
  });

  it('answers a raw block with the specification headers, and HEAD without a body', async () => {
    const record = batch.records[0];
    const res = await get(`/ipfs/${record.cid.toString()}?format=raw`, { accept: 'application/vnd.ipld.raw' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.ipld.raw');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${record.cid.toString()}.bin"`);
    expect(res.headers.etag).toBe(`"${record.cid.toString()}.raw"`);
    expect(res.headers['cache-control']).toContain('immutable');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(await hashMatches(record.cid, res.rawPayload)).toBe(true);
    expect(
      (await get(`/ipfs/${record.cid.toString()}`, { accept: 'application/vnd.ipld.raw', 'if-none-match': res.headers.etag })).statusCode,
    ).toBe(304);
    const head = await get(`/ipfs/${record.cid.toString()}`, { accept: 'application/vnd.ipld.raw' }, 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(head.rawPayload.byteLength).toBe(0);
  });

  it('answers a CAR of the DAG: the announcement, its manifest, every record, depth first; dag-scope=block is the root alone', async () => {
    const res = await get(`/ipfs/${envelope.toString()}`, { accept: 'application/vnd.ipld.car; version=1; order=dfs; dups=n' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.ipld.car; version=1; order=dfs; dups=n');
    const car = await CarReader.fromBytes(res.rawPayload);
    expect((await car.getRoots()).map(String)).toEqual([envelope.toString()]);
    const order: string[] = [];
    for await (const { cid, bytes } of car.blocks()) {
      expect(await hashMatches(cid, bytes)).toBe(true);
      order.push(cid.toString());
    }
    expect(order).toEqual([envelope, batch.manifest.cid, ...batch.records.map((r) => r.cid)].map(String));

    const one = await CarReader.fromBytes((await get(`/ipfs/${batch.manifest.cid.toString()}?format=car&dag-scope=block`)).rawPayload);
    const blocks = [];
    for await (const b of one.blocks()) blocks.push(b.cid.toString());
    expect(blocks).toEqual([batch.manifest.cid.toString()]);
  });

  it('answers the probe CID, and refuses what it cannot serve with the specified status', async () => {
    const probe = await get('/ipfs/bafkqaaa?format=raw');
    expect(probe.statusCode).toBe(200);
    expect(probe.rawPayload.byteLength).toBe(0);
    const probeCar = await CarReader.fromBytes((await get('/ipfs/bafkqaaa', { accept: 'application/vnd.ipld.car' })).rawPayload);
    expect((await probeCar.getRoots()).map(String)).toEqual(['bafkqaaa']);

    const absent = CID.createV1(dagCbor.code, await sha256.digest(new Uint8Array([1, 2, 3])));
    const raw = { accept: 'application/vnd.ipld.raw' };
    expect((await get(`/ipfs/${absent.toString()}`, raw)).statusCode).toBe(404);
    expect((await get(`/ipfs/${absent.toString()}`, { ...raw, 'cache-control': 'only-if-cached' })).statusCode).toBe(412);
    const rec = batch.records[0].cid.toString();
    expect((await get(`/ipfs/${rec}`)).statusCode).toBe(400); // no format named (fetch sends Accept: */*): strict trustless mode
    expect((await get(`/ipfs/${rec}`, { accept: 'text/html' })).statusCode).toBe(406);
    expect((await get(`/ipfs/${rec}?format=tar`)).statusCode).toBe(400);
    expect((await get(`/ipfs/${rec}`, { accept: 'application/vnd.ipld.car; version=2' })).statusCode).toBe(406);
    expect((await get(`/ipfs/not-a-cid`, raw)).statusCode).toBe(400);
    expect((await get(`/ipfs/${rec}/text`, raw)).statusCode).toBe(400);
    for (const method of ['POST', 'PUT', 'DELETE'] as const) {
      const headers = { authorization: `Bearer ${node.httpToken ?? ''}`, 'content-type': 'application/json' };
      const w = { statusCode: (await fetch(`${url}/ipfs/${rec}`, { method, headers, body: '{}' })).status };
      expect(w.statusCode, method).toBe(404);
    }
  });

  it('ends a CAR stream with an error, not a complete-looking CAR, when a block of the DAG is missing', async () => {
    const m = dagCbor.decode<Record<string, unknown>>(batch.manifest.bytes);
    const gone = CID.createV1(dagCbor.code, await sha256.digest(new Uint8Array([9])));
    const broken = await node.network!.store.put(dagCbor.encode({ ...m, records: [batch.records[0].cid, gone] }));
    const res = await fetch(`${url}/ipfs/${broken.toString()}?format=car`).then(
      async (r) => ({
        status: r.status,
        body: await r.arrayBuffer().then(
          () => 'complete',
          () => 'aborted',
        ),
      }),
      () => ({ status: 0, body: 'aborted' }),
    );
    expect(res).toEqual({ status: 200, body: 'aborted' });
  });
});
