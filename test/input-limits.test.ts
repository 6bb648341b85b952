/**
 * Limits and identities of what experiences and batches may hold (issue 13,
 * item 8): text bytes on every path, well-formed text, low-s signatures, the
 * CID's version and codec, records listed once, and a replay guard that
 * outlives the process.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as dagCbor from '@ipld/dag-cbor';
import Database from 'better-sqlite3';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { bytesToHex, type Hex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';

import type { CompressedExperience } from '../src/bitdelta/record.js';
import { decodeCompressed, encodeCompressed } from '../src/bitdelta/wire.js';
import { checkExperienceText, experienceId, ExperienceLibrary } from '../src/experience/index.js';
import { BATCH_TYPES, type BatchAnnouncement, batchDomain, buildBatch, openBatch, verifyAnnouncement } from '../src/network/batch.js';
import { cidOfBlock, verifyBlock } from '../src/network/content-store.js';
import { identityFromKey } from '../src/network/identity.js';
import { merkleRoot } from '../src/network/merkle.js';
import { ReplayGuard } from '../src/network/replay-guard.js';
import { DsoNode, loadConfig } from '../src/node/index.js';
import { errorCode } from './helpers/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DOMAIN = { chainId: 31337, registry: '0x00000000000000000000000000000000000000d5' as const };
const node = identityFromKey('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function record(text: string, i = 0): CompressedExperience {
  return {
    id: '',
    text,
    code: new Uint8Array(48).fill(i),
    scales: new Float32Array([0.5]),
    dim: 384,
    groupSize: 384,
    confidence: 0.8,
    domain: 'general',
    epoch: 0,
    source: node.address,
    createdAt: 1_800_000_000_000 + i,
  };
}

/** A batch signed by `node` over record blocks as given (no check on them), the way a hostile member could publish one. */
async function signedBatch(recordBlocks: Uint8Array[], listed?: CID[]) {
  const blocks = new Map(recordBlocks.map((b) => [cidOfBlock(b).toString(), b]));
  const records = listed ?? recordBlocks.map(cidOfBlock);
  const root = merkleRoot(records.map((c) => c.bytes));
  const timestamp = Date.now();
  const manifest = dagCbor.encode({ v: 1, network: 'n', node: node.address, timestamp, count: records.length, root, records });
  const manifestCid = cidOfBlock(manifest);
  blocks.set(manifestCid.toString(), manifest);
  const message = {
    network: 'n',
    root: bytesToHex(root),
    manifest: manifestCid.toString(),
    count: records.length,
    timestamp: BigInt(timestamp),
  };
  const signature = await node.account.signTypedData({ domain: batchDomain(DOMAIN), types: BATCH_TYPES, primaryType: 'Batch', message });
  const announcement: BatchAnnouncement = { ...message, timestamp, node: node.address, signature };
  const fetch = async (cid: CID) => blocks.get(cid.toString()) as Uint8Array;
  return { announcement, fetch };
}

describe('experience text is capped in bytes on every path', () => {
  const huge = `When ${'x'.repeat(20 << 20)}, stop.`;
  const long = `When ${'x'.repeat(1100)}, stop.`;

  it('refuses a single 20 MiB word, and a 1,100-byte one, in the text check and the library', async () => {
    expect(await errorCode(() => checkExperienceText(huge))).toBe('INVALID_EXPERIENCE');
    expect(await errorCode(() => checkExperienceText(long))).toBe('INVALID_EXPERIENCE');
    expect(checkExperienceText(`When ${'x'.repeat(900)}, stop.`)).toHaveLength(912);
    const lib = await ExperienceLibrary.open();
    expect(await errorCode(lib.add({ text: long }))).toBe('INVALID_EXPERIENCE');
    expect(await errorCode(lib.add({ text: 'When a domain is huge, refuse it.', domain: 'd'.repeat(600) }))).toBe('INVALID_OPERATION');
    expect(lib.size).toBe(0);
    await lib.close();
    expect(await errorCode(ExperienceLibrary.open({ defaultDomain: 'd'.repeat(600) }))).toBe('INVALID_ARGUMENT');
  });

  it('refuses a record whose text is over the cap when it is encoded, decoded, or opened from a signed batch', async () => {
    const text = `When ${'y'.repeat(900_000)}, stop.`;
    expect(await errorCode(() => encodeCompressed(record(text)))).toBe('INVALID_EXPERIENCE');
    expect(await errorCode(buildBatch([record(text)], { identity: node, network: 'n', ...DOMAIN }))).toBe('INVALID_EXPERIENCE');
    // Encoded by hand, as a hostile signer would: a 900 KB one-word text fit a block and passed verification.
    const r = record(text);
    const block = dagCbor.encode({ ...r, v: 1, scales: new Uint8Array(r.scales.buffer) });
    expect(await errorCode(() => decodeCompressed(block, ''))).toBe('TOO_LARGE');
    const { announcement, fetch } = await signedBatch([block]);
    expect(await errorCode(openBatch(announcement, fetch, DOMAIN))).toBe('TOO_LARGE');
    // Under the record cap, the text cap still holds.
    const t = record(`When ${'z'.repeat(2000)}, stop.`);
    const mid = dagCbor.encode({ ...t, v: 1, scales: new Uint8Array(t.scales.buffer) });
    expect(await errorCode(() => decodeCompressed(mid, ''))).toBe('INVALID_EXPERIENCE');
  });
});

describe('lone UTF-16 surrogates', () => {
  it('are refused, so two different texts never share an id', async () => {
    const a = 'When a lone \uD800 surrogate appears, refuse it.';
    const b = 'When a lone \uDC00 surrogate appears, refuse it.';
    expect(await errorCode(() => experienceId(a, 'general'))).toBe('INVALID_EXPERIENCE');
    expect(await errorCode(() => experienceId(b, 'general'))).toBe('INVALID_EXPERIENCE');
    expect(await errorCode(() => experienceId('When fine, go.', 'dom\uDBFF'))).toBe('INVALID_EXPERIENCE');
    expect(await errorCode(() => checkExperienceText(a))).toBe('INVALID_EXPERIENCE');
    const lib = await ExperienceLibrary.open();
    expect(await errorCode(lib.add({ text: a }))).toBe('INVALID_EXPERIENCE');
    // A well-formed pair is one character, and fine.
    expect((await lib.add({ text: 'When a pair 🙂 appears, keep it.' })).added).toHaveLength(1);
    await lib.close();
  });
});

describe('signatures, CIDs and manifests', () => {
  it('refuses the high-s twin of a valid signature', async () => {
    const b = await buildBatch([record('When signing, use low s.')], { identity: node, network: 'n', ...DOMAIN });
    const sig = b.announcement.signature;
    const s = BigInt(`0x${sig.slice(66, 130)}`);
    const v = Number.parseInt(sig.slice(130), 16);
    const twin = `${sig.slice(0, 66)}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
    await verifyAnnouncement(b.announcement, DOMAIN);
    expect(await errorCode(verifyAnnouncement({ ...b.announcement, signature: twin }, DOMAIN))).toBe('BAD_SIGNATURE');
    const fetch = async (cid: CID) => (cid.equals(b.manifest.cid) ? b.manifest.bytes : b.records[0].bytes);
    expect(await errorCode(openBatch({ ...b.announcement, signature: twin }, fetch, DOMAIN))).toBe('BAD_SIGNATURE');
  });

  it('verifyBlock refuses a CID of another version or codec over the same hash', async () => {
    const bytes = encodeCompressed(record('When naming blocks, use one CID form.'));
    const cid = cidOfBlock(bytes);
    verifyBlock(cid, bytes);
    expect(await errorCode(() => verifyBlock(CID.createV1(raw.code, cid.multihash), bytes))).toBe('CID_MISMATCH');
    expect(await errorCode(() => verifyBlock(CID.createV0(cid.multihash as never), bytes))).toBe('CID_MISMATCH');
  });

  it('refuses a manifest that lists a record twice, and will not build one', async () => {
    const bytes = encodeCompressed(record('When listing records, list each once.'));
    const cid = cidOfBlock(bytes);
    const { announcement, fetch } = await signedBatch([bytes], [cid, cid]);
    expect(await errorCode(openBatch(announcement, fetch, DOMAIN))).toBe('MALFORMED_RECORD');
    const r = record('When listing records, list each once.');
    expect(await errorCode(buildBatch([r, r], { identity: node, network: 'n', ...DOMAIN }))).toBe('INVALID_ARGUMENT');
  });
});

describe('the replay guard', () => {
  it('refuses after a restart what it accepted before, and forgets roots the age rule refuses anyway', async () => {
    const file = path.join(dir, 'replay.db');
    let now = 1_800_000_000_000;
    const day = 24 * 3600 * 1000;
    const first = await buildBatch([record('When replayed, refuse.')], {
      identity: node,
      network: 'n',
      ...DOMAIN,
      timestamp: now - 1000,
    });
    const guard = new ReplayGuard({ file, now: () => now });
    guard.accept(first.announcement);
    guard.close();
    const again = new ReplayGuard({ file, now: () => now });
    expect(await errorCode(() => again.check(first.announcement))).toBe('REPLAYED_BATCH');
    const older = await buildBatch([record('When older, refuse.')], {
      identity: node,
      network: 'n',
      ...DOMAIN,
      timestamp: now - 2000,
    });
    expect(await errorCode(() => again.accept(older.announcement))).toBe('REPLAYED_BATCH');
    now += 8 * day;
    const later = await buildBatch([record('When later, accept.')], { identity: node, network: 'n', ...DOMAIN, timestamp: now });
    again.accept(later.announcement);
    again.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT root FROM roots').pluck().all()).toEqual([later.announcement.root.toLowerCase()]);
    db.close();
  });

  it('is kept in the data dir of a node', async () => {
    const dataDir = path.join(dir, 'node');
    const n = await DsoNode.start(loadConfig({ env: {}, flags: { 'data-dir': dataDir, network: 'dso-replay' } }));
    try {
      expect(existsSync(path.join(dataDir, 'replay.db'))).toBe(true);
    } finally {
      await n.stop();
    }
  }, 60_000);
});
