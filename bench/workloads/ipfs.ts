/**
 * IPFS: fetching a 10,000-record batch (its manifest and every record) over
 * loopback, in seconds and MB/s of block bytes:
 *  - helia from npm, in another process with no bootstrap list, from a dso
 *    node over bitswap, walking the DAG and verifying every record (256
 *    records wanted at a time);
 *  - a dso node from a dso node over /dso/blocks (1,024 CIDs a request);
 *  - a dso node from helia over bitswap (helia does not speak /dso/blocks).
 * Each fetch starts from a fresh connection; block verification is included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { buildBatch } from '../../src/network/batch.js';
import { exportBatchCar } from '../../src/network/car.js';
import { ContentStore } from '../../src/network/content-store.js';
import { identityFromKey } from '../../src/network/identity.js';
import { P2PNode } from '../../src/network/p2p-node.js';
import { startChild } from '../../test/helpers/child.js';
import { BENCH_DOMAIN, benchRecords } from '../lib/records.js';
import type { Row } from '../lib/report.js';

const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const HELIA = 'test/helpers/helia-child.ts';

export async function ipfsWorkload(n: number): Promise<Row[]> {
  const batch = await buildBatch(await benchRecords(n), { identity: identityFromKey(KEY), network: 'dso-bench', ...BENCH_DOMAIN });
  const store = ContentStore.memory();
  await store.putVerified(batch.manifest.cid, batch.manifest.bytes);
  for (const r of batch.records) await store.putVerified(r.cid, r.bytes);
  const cids = [batch.manifest.cid, ...batch.records.map((r) => r.cid)];
  const bytes = batch.manifest.bytes.byteLength + batch.records.reduce((s, r) => s + r.bytes.byteLength, 0);
  const size = `${n.toLocaleString('en-US')} records, ${(bytes / 1e6).toFixed(2)} MB`;
  const row = (impl: string, seconds: number, note: string): Row => ({
    workload: 'IPFS batch fetch',
    impl,
    size,
    seconds,
    throughput: bytes / 1e6 / seconds,
    unit: 'MB/s',
    note,
  });
  const rows: Row[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-bench-ipfs-'));
  const server = await P2PNode.start({ network: 'dso-bench', ...BENCH_DOMAIN, store });
  try {
    const helia = startChild(HELIA, ['fetch', server.addresses[0], batch.manifest.cid.toString()]);
    const got = await helia.next<{ records: number; rootOk: boolean; seconds: number }>(600_000);
    await helia.stop();
    if (got.records !== n || !got.rootOk) throw new Error(`helia fetched ${got.records} records, root ${got.rootOk}`);
    rows.push(row('helia (other process) <- dso node, bitswap', got.seconds, 'dial + manifest + DAG walk, every record verified'));

    const client = await P2PNode.start({ network: 'dso-bench', ...BENCH_DOMAIN, store: ContentStore.memory() });
    await client.dial(server.addresses[0]);
    const t0 = performance.now();
    const own = await client.fetchBlocks(cids);
    const ownSecs = (performance.now() - t0) / 1000;
    await client.stop();
    if (own.found.size !== cids.length) throw new Error(`/dso/blocks fetched ${own.found.size} of ${cids.length}`);
    rows.push(row('dso node <- dso node, /dso/blocks', ownSecs, 'the fast path between dso nodes; every block verified'));

    const car = path.join(dir, 'batch.car');
    await exportBatchCar(store, batch.manifest.cid, car);
    const peer = startChild(HELIA, ['serve', car]);
    const { addresses } = await peer.next<{ addresses: string[] }>(120_000);
    const fromHelia = await P2PNode.start({ network: 'dso-bench', ...BENCH_DOMAIN, store: ContentStore.memory() });
    await fromHelia.dial(addresses[0]);
    const t1 = performance.now();
    const viaBitswap = await fromHelia.fetchBlocks(cids);
    const bitswapSecs = (performance.now() - t1) / 1000;
    await fromHelia.stop();
    await peer.stop();
    if (viaBitswap.found.size !== cids.length) throw new Error(`bitswap fetched ${viaBitswap.found.size} of ${cids.length}`);
    rows.push(row('dso node <- helia (other process), bitswap', bitswapSecs, '256 wants in flight; every block verified'));
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
