/**
 * The block protocol against hostile peers on 127.0.0.1 (issue 13, items 2
 * and 3): requests bounded in CIDs per request and per peer, block bytes in
 * flight bounded per peer and in total, replies streamed with repeats
 * answered once, and every wait on a peer under a deadline, a fetch moving on
 * to the next peer (and a vote to the next batch) when one stalls.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import * as dagCbor from '@ipld/dag-cbor';
import type { Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import type { Libp2p } from 'libp2p';
import { CID } from 'multiformats/cid';
import { keccak256, parseEther, toHex } from 'viem';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import type { DsoError } from '../src/core/errors.js';
import { buildBatch, encodeEnvelope } from '../src/network/batch.js';
import { startInProcessChain } from '../src/network/chain.js';
import { cidOfBlock, ContentStore } from '../src/network/content-store.js';
import { identityFromKey } from '../src/network/identity.js';
import { NetworkDSOAggregator } from '../src/network/network-aggregator.js';
import { BLOCKS_PROTOCOL, P2PNode } from '../src/network/p2p-node.js';
import type { PeerLimits } from '../src/network/peer-limits.js';
import { RegistryClient } from '../src/network/registry.js';
import { DsoNode, loadConfig } from '../src/node/index.js';
import { errorCode } from './helpers/errors.js';
import { bigBlock, rawPeer } from './helpers/peers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-peers-'));
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MB = 1_000_000;

async function server(blocks: Uint8Array[], limits: Partial<PeerLimits> = {}) {
  const store = ContentStore.memory();
  const cids = [];
  for (const b of blocks) cids.push(await store.put(b));
  const log: string[] = [];
  const p2p = await P2PNode.start({
    network: 'dso-peers',
    chainId: 31337,
    registry: '0x0000000000000000000000000000000000000000',
    store,
    limits,
    log: (l) => log.push(l),
  });
  cleanups.push(() => p2p.stop());
  return { p2p, store, cids, log };
}

async function peer(): Promise<Libp2p> {
  const p = await rawPeer();
  cleanups.push(() => p.stop());
  return p;
}

/** A peer that accepts block streams and then says nothing, forever (or sends `first` and then nothing). */
async function staller(first?: Uint8Array): Promise<Libp2p> {
  const p = await peer();
  await p.handle(BLOCKS_PROTOCOL, (stream) => {
    if (first !== undefined) void lpStream(stream).write(first);
  });
  return p;
}

async function ask(from: Libp2p, to: string, cids: CID[]): Promise<{ stream: Stream; lp: ReturnType<typeof lpStream> }> {
  const stream = await from.dialProtocol(multiaddr(to), BLOCKS_PROTOCOL);
  // A generous read buffer: a server that sends more than it should is measured, not cut off by the client.
  const lp = lpStream(stream, { maxDataLength: 2 << 20, maxBufferSize: 1 << 30 });
  await lp.write(dagCbor.encode({ cids }));
  return { stream, lp };
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('serving blocks to peers', () => {
  it('answers a CID named many times in one request once, streaming the rest as empty answers', async () => {
    const s = await server([bigBlock(MB, 1)]);
    const { lp } = await ask(
      await peer(),
      s.p2p.addresses[0],
      Array.from({ length: 200 }, () => s.cids[0]),
    );
    const sizes = [];
    for (let i = 0; i < 200; i++) sizes.push((await lp.read()).byteLength);
    expect(sizes[0]).toBeGreaterThan(MB);
    expect(sizes.slice(1).every((n) => n === 0)).toBe(true);
    expect(s.p2p.servingStats().bytesServed).toBe(sizes[0]);
  });

  it('refuses a request naming more CIDs than allowed, and more CIDs in flight from one peer, with a logged PEER_LIMIT', async () => {
    const blocks = Array.from({ length: 12 }, (_, i) => bigBlock(MB, 10 + i));
    const s = await server(blocks, { maxCidsPerRequest: 8, maxCidsPerPeer: 12 });
    const client = await peer();
    const over = await ask(client, s.p2p.addresses[0], s.cids.slice(0, 9));
    await expect(over.lp.read()).rejects.toThrow();
    await waitFor(() => s.log.length > 0);
    expect(s.log[0]).toMatch(/^PEER_LIMIT: .*9 CIDs, at most 8/u);
    // 8 CIDs held open by a peer that stops reading; 5 more from it are over its 12.
    const first = await ask(client, s.p2p.addresses[0], s.cids.slice(0, 8));
    first.stream.pause();
    await waitFor(() => s.p2p.servingStats().bytesInFlight > 0);
    const second = await ask(client, s.p2p.addresses[0], s.cids.slice(7, 12));
    await expect(second.lp.read()).rejects.toThrow();
    await waitFor(() => s.log.length > 1);
    expect(s.log[1]).toMatch(/^PEER_LIMIT: .*5 more blocks with 8 still being answered; at most 12/u);
    // The first request was not harmed: it completes once its peer reads again.
    first.stream.resume();
    for (let i = 0; i < 8; i++) expect(cidOfBlock((await first.lp.read()).subarray()).equals(s.cids[i])).toBe(true);
  });

  it('holds at most the byte budgets for peers that stop reading, and cuts them off at their deadlines', async () => {
    const blocks = Array.from({ length: 16 }, (_, i) => bigBlock(MB, 30 + i));
    const limits = { maxBytesInFlightPerPeer: 3 << 20, maxBytesInFlight: 5 << 20, requestTimeoutMs: 2000, streamTimeoutMs: 1000 };
    const s = await server(blocks, limits);
    const stalled = [];
    // Four peers, two streams each, all sixteen blocks each, none reading.
    for (let p = 0; p < 4; p++) {
      const client = await peer();
      for (let k = 0; k < 2; k++) {
        const r = await ask(client, s.p2p.addresses[0], s.cids);
        r.stream.pause();
        stalled.push(r);
      }
    }
    await waitFor(() => s.p2p.servingStats().refused === 8);
    const stats = s.p2p.servingStats();
    expect(stats.peakBytesInFlight).toBeGreaterThan(0);
    expect(stats.peakBytesInFlight).toBeLessThanOrEqual(5 << 20);
    expect(stats.bytesInFlight).toBe(0);
    expect(s.log.every((l) => l.startsWith('PEER_TIMEOUT: '))).toBe(true);
    // Budgets are released: an honest peer is served in full.
    const honest = await ask(await peer(), s.p2p.addresses[0], s.cids.slice(0, 4));
    for (let i = 0; i < 4; i++) expect((await honest.lp.read()).byteLength).toBeGreaterThan(MB);
  }, 30_000);

  it('checks its limits when it starts', async () => {
    const store = ContentStore.memory();
    const start = (limits: Partial<PeerLimits>) =>
      P2PNode.start({ network: 'n', chainId: 1, registry: '0x0000000000000000000000000000000000000000', store, limits });
    expect(await errorCode(start({ maxBytesInFlightPerPeer: 1000 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(start({ maxBytesInFlight: 4 << 20 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(start({ maxCidsPerPeer: 10 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(start({ streamTimeoutMs: 0 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(start({ maxCidz: 5 } as Partial<PeerLimits>))).toBe('INVALID_ARGUMENT');
  });

  it("takes a node's limits from its configuration file", async () => {
    const file = path.join(dir, 'dso.config.toml');
    writeFileSync(file, `dataDir = "${path.join(dir, 'configured')}"\n[peerLimits]\nmaxCidsPerRequest = 64\nstreamTimeoutMs = 2500\n`);
    const n = await DsoNode.start(loadConfig({ file, env: {}, flags: {} }));
    cleanups.push(() => n.stop());
    expect(n.network?.p2p.limits).toMatchObject({ maxCidsPerRequest: 64, streamTimeoutMs: 2500, maxBytesInFlight: 64 << 20 });
    writeFileSync(file, `[peerLimits]\nmaxCidsPerRequest = 0\n`);
    expect(await errorCode(() => loadConfig({ file, env: {}, flags: {} }))).toBe('INVALID_CONFIG');
  }, 30_000);
});

describe('a node serving blocks from disk, in its own process', () => {
  it('stays within its budgets when peers repeat a block and stop reading', async () => {
    const limits = { maxBytesInFlightPerPeer: 4 << 20, maxBytesInFlight: 16 << 20 };
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/helpers/block-server-child.ts',
        mkdtempSync(path.join(dir, 'blocks-')),
        '32',
        String(MB),
        JSON.stringify(limits),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(() => {
      child.kill('SIGKILL');
    });
    const ready = await new Promise<{ address: string; cids: string[] }>((resolve) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out) as { address: string; cids: string[] });
      });
    });
    const cids = ready.cids.map((c) => CID.parse(c));
    const peakKiB = () => Number(/VmHWM:\s+(\d+)/u.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
    const before = peakKiB();
    // The attack of the issue: one block named over and over, from several streams at once...
    const clients = [];
    for (let i = 0; i < 4; i++) clients.push(await peer());
    const repeated = await Promise.all(
      clients.map((c) =>
        ask(
          c,
          ready.address,
          Array.from({ length: 256 }, () => cids[0]),
        ),
      ),
    );
    await Promise.all(
      repeated.map(async (r) => {
        for (let i = 0; i < 256; i++) await r.lp.read();
      }),
    );
    // ...and peers asking for every block and reading none of it.
    for (const c of clients) for (let k = 0; k < 2; k++) (await ask(c, ready.address, cids)).stream.pause();
    await new Promise((r) => setTimeout(r, 1500));
    const grew = (peakKiB() - before) / 1024;
    // Before the budgets this grew by 1,043 MiB (every reply built whole); with them, by about 8 MiB.
    expect(grew).toBeLessThan(120);
  }, 60_000);
});

describe('deadlines on peers', () => {
  const fast = { dialTimeoutMs: 500, streamTimeoutMs: 500, requestTimeoutMs: 2000 };

  it('gives up on a peer that accepts the block stream and stalls, and takes the block from the next', async () => {
    const block = bigBlock(1000, 5);
    const honest = await server([block]);
    const mute = await staller();
    const half = await staller(new Uint8Array(0));
    const me = await server([], fast);
    await me.p2p.dial(`${mute.getMultiaddrs()[0].toString()}`);
    const alone = await me.p2p.fetchBlocks([honest.cids[0]]);
    expect(alone.found.size).toBe(0);
    expect(alone.failed.map((f) => f.error.code)).toEqual(['PEER_TIMEOUT']);
    await me.p2p.dial(half.getMultiaddrs()[0].toString());
    await me.p2p.dial(honest.p2p.addresses[0]);
    const skip = new Map<string, DsoError>();
    const got = await me.p2p.fetchBlocks([honest.cids[0]], { skip });
    expect(new Uint8Array(got.found.get(honest.cids[0].toString()) ?? [])).toEqual(block);
    expect(got.failed.every((f) => f.error.code === 'PEER_TIMEOUT')).toBe(true);
    // Peers that failed are skipped by the caller's next fetch.
    for (const f of got.failed) expect(skip.has(f.peer)).toBe(true);
  }, 30_000);

  it('times out a dial to a peer that accepts the connection and never speaks', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          silent.close(() => r());
        }),
    );
    const port = (silent.address() as { port: number }).port;
    const other = await rawPeer();
    const id = other.peerId.toString();
    await other.stop();
    const me = await server([], fast);
    expect(await errorCode(me.p2p.dial(`/ip4/127.0.0.1/tcp/${port}/p2p/${id}`))).toBe('PEER_TIMEOUT');
    // A kept peer like this does not hold up the start: its dials time out, typed, and are tried again later.
    const p = await P2PNode.start({
      network: 'n',
      chainId: 1,
      registry: '0x0000000000000000000000000000000000000000',
      store: ContentStore.memory(),
      limits: fast,
      peers: [`/ip4/127.0.0.1/tcp/${port}/p2p/${id}`],
    });
    cleanups.push(() => p.stop());
    await waitFor(() => p.keptPeers()[0].lastError !== undefined);
    expect(p.keptPeers()[0]).toMatchObject({ connected: false, lastError: expect.stringMatching(/^PEER_TIMEOUT: dialling/u) as unknown });
  }, 30_000);

  it('gives a batch whose only holder stalls two more rounds, then votes it down as PEER_TIMEOUT; the next batch is decided at once', async () => {
    const chain = await startInProcessChain();
    cleanups.push(() => chain.close());
    const key = (s: string) => keccak256(toHex(`dso stall ${s}`));
    const [voter, submitter] = [identityFromKey(key('voter')), identityFromKey(key('submitter'))];
    for (const id of [voter, submitter]) await chain.fund(id.address, parseEther('10'));
    const reg = await RegistryClient.deploy(chain, voter, { votingPeriod: 3600, members: [voter.address, submitter.address] });
    const rec = (text: string) => ({
      id: '',
      text,
      code: new Uint8Array(48),
      scales: new Float32Array([0.5]),
      dim: 384,
      groupSize: 384,
      confidence: 0.9,
      domain: 'general',
      epoch: 0,
      source: '',
      createdAt: Date.now(),
    });
    // Two batches: the first held only by a peer that stalls, the second by one that answers.
    const honest = await server([]);
    const ids = [];
    for (const [i, text] of ['When a peer stalls, move on.', 'When a peer answers, use it.'].entries()) {
      const b = await buildBatch([rec(text)], {
        identity: submitter,
        network: 'dso-stall',
        chainId: chain.chain.id,
        registry: reg.address,
        timestamp: Date.now() + i,
      });
      const envelope = encodeEnvelope(b.announcement);
      if (i === 1) {
        for (const r of b.records) await honest.store.putVerified(r.cid, r.bytes);
        await honest.store.putVerified(b.manifest.cid, b.manifest.bytes);
        await honest.store.put(envelope);
      }
      ids.push(await RegistryClient.at(chain, submitter, reg.address).submitBatch(b.announcement.root, cidOfBlock(envelope).toString(), 1));
    }
    const me = await server([], fast);
    await me.p2p.dial((await staller()).getMultiaddrs()[0].toString());
    await me.p2p.dial(honest.p2p.addresses[0]);
    const agg = new NetworkDSOAggregator({
      identity: voter,
      registry: RegistryClient.at(chain, voter, reg.address),
      store: me.store,
      p2p: me.p2p,
      network: 'dso-stall',
      chainId: chain.chain.id,
    });
    // A batch no peer serves in time gets two more rounds before it is voted down; the other is decided at once.
    const first = await agg.advance({ member: true });
    expect(first.votes.map((v) => [v.batchId, v.approve])).toEqual([[ids[1], true]]);
    expect(first.failures).toMatchObject([{ stage: 'fetch', batchId: ids[0], retry: true }]);
    expect(first.failures[0].reason).toMatch(/^PEER_TIMEOUT: /u);
    expect((await agg.advance({ member: true })).votes).toEqual([]);
    const third = await agg.advance({ member: true });
    expect(third.votes.map((v) => [v.batchId, v.approve])).toEqual([[ids[0], false]]);
    expect(third.votes[0].reason).toMatch(/^PEER_TIMEOUT: /u);
  }, 60_000);
});
