/**
 * Bitswap with a real IPFS implementation: helia from npm, in a process of
 * its own, with no bootstrap list, on 127.0.0.1. It fetches a dso node's
 * batch by its manifest CID and verifies every record; a dso node fetches a
 * batch from it (helia does not speak /dso/blocks); a helia peer that sends a
 * block whose bytes are not the CID's gets nothing stored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildBatch, type BuiltBatch } from '../src/network/batch.js';
import { BITSWAP_PROTOCOL, ServingBlockstore } from '../src/network/bitswap.js';
import { exportBatchCar } from '../src/network/car.js';
import { ContentStore } from '../src/network/content-store.js';
import { identityFromKey } from '../src/network/identity.js';
import { P2PNode } from '../src/network/p2p-node.js';
import { type JsonChild, startChild } from './helpers/child.js';
import { SAMPLE_DOMAIN, sampleRecords } from './helpers/records.js';

const CHILD = 'test/helpers/helia-child.ts';
const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-bitswap-'));
const children: JsonChild[] = [];
const nodes: P2PNode[] = [];

async function holding(batch: BuiltBatch): Promise<ContentStore> {
  const store = ContentStore.memory();
  await store.putVerified(batch.manifest.cid, batch.manifest.bytes);
  for (const r of batch.records) await store.putVerified(r.cid, r.bytes);
  return store;
}

async function node(store: ContentStore, opts: Partial<Parameters<typeof P2PNode.start>[0]> = {}): Promise<P2PNode> {
  const n = await P2PNode.start({ network: 'dso-ipfs', ...SAMPLE_DOMAIN, store, ...opts });
  nodes.push(n);
  return n;
}

function child(...args: string[]): JsonChild {
  const c = startChild(CHILD, args);
  children.push(c);
  return c;
}

const loopback = (addrs: string[]) => addrs.every((a) => a.startsWith('/ip4/127.0.0.1/'));

let batch: BuiltBatch;
let car: string;

beforeAll(async () => {
  batch = await buildBatch(sampleRecords(40, 7), { identity: identityFromKey(KEY), network: 'dso-ipfs', ...SAMPLE_DOMAIN });
  car = path.join(dir, 'batch.car');
  await exportBatchCar(await holding(batch), batch.manifest.cid, car);
});

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  await Promise.all(nodes.map((n) => n.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('bitswap between a dso node and helia (another process, 127.0.0.1, no bootstrap list)', () => {
  it('helia fetches a batch by its manifest CID, walks the DAG and verifies every record', async () => {
    // A reply cap of 2 KB: the 40 records (about 13 KB) go out in many replies, and the fetch still completes.
    const server = await node(await holding(batch), { bitswap: { replyBytes: 2048 } });
    expect(server.protocols).toContain(BITSWAP_PROTOCOL);
    const c = child('fetch', server.addresses[0], batch.manifest.cid.toString());
    const got = await c.next<{ records: number; rootOk: boolean; texts: string[]; remotes: string[]; listen: string[] }>(90_000);
    expect(got.records).toBe(40);
    expect(got.rootOk).toBe(true);
    expect(got.texts).toEqual(sampleRecords(40, 7).map((r) => r.text));
    expect(loopback(got.remotes) && loopback(got.listen)).toBe(true);
    expect(await c.stop()).toBe(0);
  }, 120_000);

  it('a dso node fetches a batch over bitswap from helia, which does not speak /dso/blocks, and stores nothing itself', async () => {
    const c = child('serve', car);
    const { addresses } = await c.next<{ addresses: string[] }>();
    const store = ContentStore.memory();
    const client = await node(store);
    await client.dial(addresses[0]);
    const cids: CID[] = [batch.manifest.cid, ...batch.records.map((r) => r.cid)];
    const { found, refused } = await client.fetchBlocks(cids);
    expect(refused).toEqual([]);
    expect(found.size).toBe(41);
    expect(Buffer.from(found.get(batch.records[5].cid.toString())!)).toEqual(Buffer.from(batch.records[5].bytes));
    expect(await store.has(batch.records[5].cid)).toBe(false);
    const { remotes } = await (async () => {
      c.process.stdin?.end();
      return c.next<{ remotes: string[] }>();
    })();
    expect(loopback(remotes)).toBe(true);
  }, 120_000);

  it('a helia peer that sends a block whose bytes do not match its CID is refused, and nothing is stored', async () => {
    const victim = batch.records[3].cid;
    const c = child('serve', car, victim.toString());
    const { addresses } = await c.next<{ addresses: string[] }>();
    const store = ContentStore.memory();
    const client = await node(store, { limits: { streamTimeoutMs: 4000 } });
    await client.dial(addresses[0]);
    const cids = batch.records.map((r) => r.cid);
    const t0 = Date.now();
    const { found } = await client.fetchBlocks(cids);
    expect(Date.now() - t0).toBeLessThan(10_000); // the wait for the lying peer's block ends at the idle deadline
    expect(found.has(victim.toString())).toBe(false);
    expect(found.size).toBe(39);
    for (const cid of cids) expect(await store.has(cid)).toBe(false);
  }, 120_000);
});

describe('what bitswap serves', () => {
  it('caps the bytes of one reply and never serves a block that does not hash to its CID', async () => {
    const store = await holding(batch);
    const view = new ServingBlockstore(store, 700); // two records (324 bytes each) fit, a third does not
    const read = async (cid: CID, signal?: AbortSignal) => {
      const parts: Uint8Array[] = [];
      try {
        for await (const p of view.get(cid, { signal })) parts.push(p);
      } catch (e) {
        return (e as Error).name;
      }
      return parts[0].byteLength;
    };
    const reply = new AbortController().signal;
    const [a, b, d] = batch.records;
    expect(await read(a.cid, reply)).toBe(a.bytes.byteLength);
    expect(await read(b.cid, reply)).toBe(b.bytes.byteLength);
    expect(await read(d.cid, reply)).toBe('NotFoundError');
    expect(await read(d.cid, new AbortController().signal)).toBe(d.bytes.byteLength); // the next reply
    expect(await read(batch.manifest.cid, reply)).toBe('NotFoundError');
    await expect(view.put(a.cid, a.bytes)).rejects.toThrow();
  });
});
