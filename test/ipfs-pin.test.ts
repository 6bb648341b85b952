/**
 * Optional pinning on an IPFS node ([ipfs] rpcUrl, kubo's RPC API), against
 * a local stand-in that speaks kubo's /api/v0/dag/import: a node that
 * accepts a batch pins it there (announcement, manifest and every record);
 * an RPC error or silence is a typed error, counted, that fails nothing else.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { CID } from 'multiformats/cid';
import { keccak256, parseEther, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildBatch, encodeEnvelope } from '../src/network/batch.js';
import { startInProcessChain } from '../src/network/chain.js';
import { ContentStore } from '../src/network/content-store.js';
import { identityFromKey, loadOrCreateNodeKey } from '../src/network/identity.js';
import { KuboPinner } from '../src/network/kubo-pinner.js';
import { RegistryClient } from '../src/network/registry.js';
import { loadConfig } from '../src/node/config.js';
import { DsoNode } from '../src/node/dso-node.js';
import { errorCode } from './helpers/errors.js';
import { type KuboStandIn, startKuboStandIn } from './helpers/kubo-standin.js';
import { SAMPLE_DOMAIN, sampleRecords } from './helpers/records.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-pin-'));
let kubo: KuboStandIn;
beforeAll(async () => {
  kubo = await startKuboStandIn();
});
afterAll(async () => {
  await kubo?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pinning accepted batches on an IPFS node (kubo RPC)', () => {
  it('a node that accepts a batch pins it, rooted at its signed announcement', async () => {
    const chain = await startInProcessChain();
    const [dirA, dirB] = [path.join(dir, 'a'), path.join(dir, 'b')];
    const [idA, idB] = [dirA, dirB].map((d) => loadOrCreateNodeKey(path.join(d, 'node.key')));
    const owner = identityFromKey(keccak256(toHex('pin owner')));
    for (const id of [idA, idB, owner]) await chain.fund(id.address, parseEther('10'));
    // A's submission is its yes; B's vote makes it 2 of 2, and B's sync then fetches, verifies and pins the batch.
    const reg = await RegistryClient.deploy(chain, owner, { votingPeriod: 3600, members: [idA.address, idB.address] });
    const flags = { network: 'dso-pin', 'sync-frequency': '1' };
    const a = await DsoNode.start(loadConfig({ env: {}, flags: { ...flags, 'data-dir': dirA } }), { chain, registryAddress: reg.address });
    const b = await DsoNode.start(
      loadConfig({ env: {}, flags: { ...flags, 'data-dir': dirB, peers: a.network!.p2p.addresses[0], 'ipfs-rpc-url': kubo.url } }),
      { chain, registryAddress: reg.address },
    );
    try {
      // Configured peers are dialled in the background: wait for the connection before syncing.
      for (let i = 0; i < 200 && !b.network!.p2p.keptPeers().every((p) => p.connected); i++) await new Promise((r) => setTimeout(r, 50));
      await a.library.add([{ text: 'When a limit is 0/0, try factoring before L’Hôpital.', domain: 'math', confidence: 0.9 }]);
      const sa = await a.trainer.sync();
      expect(sa.submitted?.records).toBe(1);
      const sb = await b.trainer.sync();
      expect(sb.votes).toEqual([{ batchId: sa.submitted?.batchId, approve: true }]);
      expect(sb.merged).toBe(1);
      const registered = await RegistryClient.at(chain, idB, reg.address).getBatch(BigInt(sa.submitted!.batchId));
      expect([...kubo.pins]).toEqual([registered.cid]);
      expect(kubo.blocks.size).toBe(3); // announcement, manifest, record
      expect(b.network!.aggregator.pins).toEqual({ pinned: 1, failed: 0 });
    } finally {
      await b.stop();
      await a.stop();
      await chain.close();
    }
  });

  it('an RPC error or an RPC that never answers is a typed error with kubo’s message or the deadline', async () => {
    const store = ContentStore.memory();
    const batch = await buildBatch(sampleRecords(3, 9), {
      identity: identityFromKey(keccak256(toHex('p'))),
      network: 'n',
      ...SAMPLE_DOMAIN,
    });
    await store.putVerified(batch.manifest.cid, batch.manifest.bytes);
    for (const r of batch.records) await store.putVerified(r.cid, r.bytes);
    const announcement = await store.put(encodeEnvelope(batch.announcement));

    kubo.mode = 'error';
    const failing = new KuboPinner(kubo.url, store);
    await expect(failing.pin(announcement)).rejects.toThrow(/answered 500: blockstore: no space left on device/u);
    expect(await errorCode(failing.pin(announcement))).toBe('IO_ERROR');

    kubo.mode = 'hang';
    const t0 = Date.now();
    expect(await errorCode(new KuboPinner(kubo.url, store, 500).pin(announcement))).toBe('IO_ERROR');
    expect(Date.now() - t0).toBeLessThan(5000);

    kubo.mode = 'ok';
    await new KuboPinner(kubo.url, store).pin(announcement);
    expect(kubo.pins.has(announcement.toString())).toBe(true);
    expect(await errorCode(new KuboPinner(kubo.url, store).pin(batch.manifest.cid))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(new KuboPinner(`${kubo.url}/`, store).pin(CID.parse(batch.records[0].cid.toString())))).not.toBe('no error');
  });
});
