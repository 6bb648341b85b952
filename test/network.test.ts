import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { afterAll, describe, expect, it } from 'vitest';

import type { CompressedExperience } from '../src/bitdelta/record.js';
import { encodeCompressed } from '../src/bitdelta/wire.js';
import { experienceId } from '../src/experience/content-id.js';
import { packReference } from '../src/index.js';
import { BATCH_TYPES, batchDomain, buildBatch, openBatch, verifyAnnouncement, verifyRecordInclusion } from '../src/network/batch.js';
import { cidOfBlock, ContentStore } from '../src/network/content-store.js';
import { identityFromKey, loadOrCreateNodeKey } from '../src/network/identity.js';
import { ReplayGuard } from '../src/network/replay-guard.js';
import { errorCode } from './helpers/errors.js';
import { gaussian } from './helpers/random.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-net-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY_A = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const KEY_B = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';
/** The EIP-712 domain: a chain and a registry's address (no chain runs in these tests). */
const DOMAIN = { chainId: 31337, registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3' } as const;

function records(n: number, seed = 1): CompressedExperience[] {
  return Array.from({ length: n }, (_, i) => {
    const { codes, scales } = packReference(gaussian(384, seed * 1000 + i), {
      rows: 1,
      dim: 384,
      groupSize: 384,
      groups: 1,
      bytesPerRow: 48,
    });
    const text = `When sharing lesson ${seed}-${i}, check it twice.`;
    return {
      id: experienceId(text, 'math'),
      text,
      code: codes,
      scales,
      dim: 384,
      groupSize: 384,
      confidence: 0.8,
      domain: 'math',
      epoch: 3,
      source: 'local',
      createdAt: 1_700_000_000_000 + i,
    };
  });
}

describe('node identity', () => {
  it('creates a 0600 key file on first start and reads the same key back', () => {
    const file = path.join(dir, 'keys', 'node.key');
    const a = loadOrCreateNodeKey(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(a.address).toMatch(/^0x[0-9a-fA-F]{40}$/u);
    expect(loadOrCreateNodeKey(file).address).toBe(a.address);
  });
  it('refuses a key file others can read, or one that is not a key', async () => {
    const file = path.join(dir, 'open.key');
    loadOrCreateNodeKey(file);
    chmodSync(file, 0o644);
    expect(await errorCode(() => loadOrCreateNodeKey(file))).toBe('INVALID_KEY_FILE');
    const junk = path.join(dir, 'junk.key');
    writeFileSync(junk, '{"version":1,"privateKey":"0x12"}', { mode: 0o600 });
    expect(await errorCode(() => loadOrCreateNodeKey(junk))).toBe('INVALID_KEY_FILE');
    const wrong = path.join(dir, 'wrong.key');
    writeFileSync(wrong, JSON.stringify({ version: 1, privateKey: KEY_A, address: identityFromKey(KEY_B).address }), { mode: 0o600 });
    expect(await errorCode(() => loadOrCreateNodeKey(wrong))).toBe('INVALID_KEY_FILE');
  });
});

describe('batches', () => {
  const node = identityFromKey(KEY_A);

  async function published(n = 5, seed = 1) {
    const b = await buildBatch(records(n, seed), { identity: node, network: 'dso-test', ...DOMAIN, timestamp: Date.now() });
    const store = ContentStore.memory();
    await store.putVerified(b.manifest.cid, b.manifest.bytes);
    for (const r of b.records) await store.putVerified(r.cid, r.bytes);
    const fetch = async (cid: CID) => {
      const bytes = await store.get(cid);
      if (!bytes) throw new Error(`missing ${String(cid)}`);
      return bytes;
    };
    return { b, store, fetch };
  }

  it('round-trips: signed, content-addressed, provable records', async () => {
    const { b, fetch } = await published(7);
    expect(b.announcement.node).toBe(node.address);
    await verifyAnnouncement(b.announcement, DOMAIN);
    const opened = await openBatch(b.announcement, fetch, DOMAIN);
    expect(opened.records).toHaveLength(7);
    const src = records(7);
    opened.records.forEach(({ opened: r }, i) => {
      expect(r.text).toBe(src[i].text);
      expect(r.id).toBe(src[i].id);
      expect(Array.from(r.code)).toEqual(Array.from(src[i].code));
      expect(r.source).toBe(node.address);
      expect(r.cid.toString()).toBe(b.records[i].cid.toString());
    });
    for (const r of b.records) verifyRecordInclusion(r, b.announcement.root);
    expect(b.records[0].cid.toString()).toMatch(/^bafyrei/u);
  });

  it('rejects a tampered block, a forged signature, a wrong proof and a mismatched manifest', async () => {
    const { b, fetch } = await published(4);
    // Tampered record: the fetched bytes do not hash to the CID.
    const tampered = async (cid: CID) => {
      const bytes = await fetch(cid);
      if (cid.equals(b.records[2].cid)) {
        const t = bytes.slice();
        t[t.length - 1] ^= 1;
        return t;
      }
      return bytes;
    };
    expect(await errorCode(openBatch(b.announcement, tampered, DOMAIN))).toBe('CID_MISMATCH');
    // Forged: signed by B but claiming to be A; and a changed field under A's signature.
    const forged = await buildBatch(records(4), { identity: identityFromKey(KEY_B), network: 'dso-test', ...DOMAIN });
    expect(await errorCode(verifyAnnouncement({ ...forged.announcement, node: node.address }, DOMAIN))).toBe('BAD_SIGNATURE');
    expect(await errorCode(verifyAnnouncement({ ...b.announcement, count: 5 }, DOMAIN))).toBe('BAD_SIGNATURE');
    // Signed for another chain or another registry on the same chain.
    expect(await errorCode(verifyAnnouncement(b.announcement, { ...DOMAIN, chainId: 1 }))).toBe('BAD_SIGNATURE');
    expect(await errorCode(verifyAnnouncement(b.announcement, { ...DOMAIN, registry: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' }))).toBe(
      'BAD_SIGNATURE',
    );
    expect(await errorCode(verifyAnnouncement({ ...b.announcement, signature: '0x1234' }, DOMAIN))).toBe('BAD_SIGNATURE');
    // Wrong proof: a record of another batch, or the right record with another's proof.
    expect(await errorCode(() => verifyRecordInclusion({ ...forged.records[0] }, b.announcement.root))).toBe('BAD_PROOF');
    expect(await errorCode(() => verifyRecordInclusion({ ...b.records[0], proof: b.records[1].proof }, b.announcement.root))).toBe(
      'BAD_PROOF',
    );
    // A manifest listing other records under the signed root.
    const other = await published(4, 9);
    const swapped = async (cid: CID) => (cid.toString() === b.announcement.manifest ? other.b.manifest.bytes : fetch(cid));
    expect(await errorCode(openBatch(b.announcement, swapped, DOMAIN))).toBe('CID_MISMATCH');
    // Validly signed by A, but the root does not belong to the manifest it names.
    const message = {
      network: 'dso-test',
      root: other.b.announcement.root,
      manifest: b.announcement.manifest,
      count: 4,
      timestamp: BigInt(b.announcement.timestamp),
    };
    const signature = await node.account.signTypedData({ domain: batchDomain(DOMAIN), types: BATCH_TYPES, primaryType: 'Batch', message });
    const lying = { ...b.announcement, root: message.root, signature };
    await verifyAnnouncement(lying, DOMAIN);
    expect(await errorCode(openBatch(lying, fetch, DOMAIN))).toBe('BAD_PROOF');
  });

  it('rejects oversized payloads and malformed CBOR, storing nothing', async () => {
    const store = ContentStore.memory({ maxBlockBytes: 512 });
    const big = new Uint8Array(2048);
    expect(await errorCode(store.put(big))).toBe('TOO_LARGE');
    const { b, fetch } = await published(2);
    expect(await errorCode(openBatch(b.announcement, fetch, { ...DOMAIN, maxBlockBytes: 64 }))).toBe('TOO_LARGE');
    expect(await errorCode(verifyAnnouncement({ ...b.announcement, count: 20_000 }, DOMAIN))).toBe('TOO_LARGE');
    const junk = new Uint8Array([0xa1, 0x61]);
    expect(await errorCode(store.putVerified(b.records[0].cid, junk))).toBe('CID_MISMATCH');
    expect(await store.has(b.records[0].cid)).toBe(false);
    // A signed batch whose record block is valid CBOR but not a record.
    const badRecord = dagCbor.encode({ v: 1, text: 5 });
    const cid = cidOfBlock(badRecord);
    const rec = records(1)[0];
    const built = await buildBatch([rec], { identity: node, network: 'dso-test', ...DOMAIN });
    const fetchBad = async (c: CID) => (c.equals(built.records[0].cid) ? badRecord : built.manifest.bytes);
    expect(await errorCode(openBatch(built.announcement, fetchBad, DOMAIN))).toBe('CID_MISMATCH');
    expect(cid.toString()).not.toBe(built.records[0].cid.toString());
    // Malformed bytes that do hash right can only come from the signer: decoding still refuses them.
    const { decodeCompressed } = await import('../src/bitdelta/wire.js');
    expect(await errorCode(() => decodeCompressed(badRecord, 'x'))).toBe('MALFORMED_RECORD');
    expect(await errorCode(() => decodeCompressed(new Uint8Array([0xff, 0xfe]), 'x'))).toBe('MALFORMED_RECORD');
  });

  it('refuses replays: the same root twice, an older timestamp, stale or future batches', async () => {
    let now = 1_800_000_000_000;
    const guard = new ReplayGuard({ now: () => now });
    const first = await buildBatch(records(2), { identity: node, network: 'n', ...DOMAIN, timestamp: now - 1000 });
    guard.accept(first.announcement);
    expect(await errorCode(() => guard.check(first.announcement))).toBe('REPLAYED_BATCH');
    const older = await buildBatch(records(2, 2), { identity: node, network: 'n', ...DOMAIN, timestamp: now - 5000 });
    expect(await errorCode(() => guard.check(older.announcement))).toBe('REPLAYED_BATCH');
    const stale = await buildBatch(records(2, 3), {
      identity: identityFromKey(KEY_B),
      network: 'n',
      ...DOMAIN,
      timestamp: now - 8 * 24 * 3600 * 1000,
    });
    expect(await errorCode(() => guard.check(stale.announcement))).toBe('REPLAYED_BATCH');
    const future = await buildBatch(records(2, 4), {
      identity: identityFromKey(KEY_B),
      network: 'n',
      ...DOMAIN,
      timestamp: now + 3600 * 1000,
    });
    expect(await errorCode(() => guard.check(future.announcement))).toBe('REPLAYED_BATCH');
    now += 10_000;
    const next = await buildBatch(records(2, 5), { identity: node, network: 'n', ...DOMAIN, timestamp: now });
    guard.accept(next.announcement);
  });
});

describe('content store', () => {
  it('keeps IPFS blocks on disk and checks them when read back', async () => {
    const blocks = path.join(dir, 'blocks');
    const store = await ContentStore.fs(blocks);
    const bytes = encodeCompressed(records(1)[0]);
    const cid = await store.put(bytes);
    expect(cid.toString()).toBe(cidOfBlock(bytes).toString());
    await store.close();
    const again = await ContentStore.fs(blocks);
    expect(Buffer.from((await again.get(cid)) as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    expect(await again.get(cidOfBlock(new Uint8Array([1])))).toBeUndefined();
    await again.close();
    // Flip a byte on disk: reading it back is a CID_MISMATCH, not bad data.
    const { readdirSync } = await import('node:fs');
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    const file = walk(blocks).find((f) => f.endsWith('.data')) as string;
    const raw = readFileSync(file);
    raw[raw.length - 1] ^= 1;
    writeFileSync(file, raw);
    const rotten = await ContentStore.fs(blocks);
    expect(await errorCode(rotten.get(cid))).toBe('CID_MISMATCH');
    await rotten.close();
    expect(CID.asCID(cid)).not.toBeNull();
  });
});
