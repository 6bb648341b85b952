/**
 * PEERS: a `dso node` (its own process, default peer limits, blocks on disk
 * as a node keeps them) serving 20 peers at once over 127.0.0.1, sampled for
 * resident memory the whole time.
 *  - honest: each peer fetches every block through P2PNode.fetchBlocks, all
 *    at once, so together they ask for far more than the node's budget of
 *    block bytes in flight;
 *  - hostile: each peer opens streams that name one block 1,024 times (the
 *    amplification of issue 13) and streams that ask for every block and
 *    then stop reading.
 * The row states the node's peak RSS over its idle RSS beside its budget.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import * as dagCbor from '@ipld/dag-cbor';
import type { Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import type { CID } from 'multiformats/cid';

import { ContentStore } from '../../src/network/content-store.js';
import { BLOCKS_PROTOCOL, P2PNode } from '../../src/network/p2p-node.js';
import { DEFAULT_PEER_LIMITS } from '../../src/network/peer-limits.js';
import { bigBlock, rawPeer } from '../../test/helpers/peers.js';
import type { Row } from '../lib/report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PEERS = 20;
const BLOCK = 1_000_000;
const MiB = 2 ** 20;

/** Resident and peak resident memory of a process, in MiB. */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`, 'u').exec(status)?.[1]) / 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** Samples a process's RSS every 20 ms while `work` runs; returns the highest sample. */
async function peakDuring(pid: number, work: () => Promise<unknown>): Promise<number> {
  let peak = memory(pid).rss;
  const timer = setInterval(() => (peak = Math.max(peak, memory(pid).rss)), 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, memory(pid).rss);
}

export async function peerLoadWorkload(blocks: number): Promise<Row[]> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dso-bench-peers-'));
  const store = await ContentStore.fs(path.join(dataDir, 'blocks'));
  const cids: CID[] = [];
  let stored = 0;
  for (let i = 0; i < blocks; i++) {
    const b = bigBlock(BLOCK, i + 1);
    cids.push(await store.put(b));
    stored += b.byteLength;
  }
  await store.close();
  const port = 22_000 + (process.pid % 10_000);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'node', '--data-dir', dataDir, '--port', String(port)],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DSO_LOG_LEVEL: 'info' } },
  );
  const peers: Awaited<ReturnType<typeof rawPeer>>[] = [];
  const clients: P2PNode[] = [];
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.once('exit', (code) => reject(new Error(`dso node exited ${code} before it was ready`)));
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        for (const line of out.split('\n')) {
          if (!line.includes('dso node ready')) continue;
          resolve((JSON.parse(line) as { p2p: string[] }).p2p[0]);
        }
      });
    });
    await new Promise((r) => setTimeout(r, 1000));
    const pid = child.pid as number;
    const idle = memory(pid).rss;
    const budget = DEFAULT_PEER_LIMITS.maxBytesInFlight / MiB;

    // libp2p takes at most 5 new connections a second from one host, and every peer here is 127.0.0.1.
    const connect = async <T>(make: () => Promise<T>): Promise<T> => {
      const made = await make();
      await new Promise((r) => setTimeout(r, 250));
      return made;
    };
    for (let i = 0; i < PEERS; i++)
      clients.push(
        await connect(() =>
          P2PNode.start({
            network: 'dso-bench-peers',
            chainId: 0,
            registry: '0x0000000000000000000000000000000000000000',
            store: ContentStore.memory(),
            peers: [address],
          }),
        ),
      );
    let fetched = 0;
    const t0 = performance.now();
    const honestPeak = await peakDuring(pid, () =>
      Promise.all(
        clients.map(async (c) => {
          const { found } = await c.fetchBlocks(cids);
          for (const b of found.values()) fetched += b.byteLength;
        }),
      ),
    );
    const honestSecs = (performance.now() - t0) / 1000;
    if (fetched !== PEERS * stored) throw new Error(`peers fetched ${fetched} bytes, expected every block by every peer`);

    for (let i = 0; i < PEERS; i++) {
      const p = await rawPeer();
      peers.push(p);
      await connect(() => p.dial(multiaddr(address)));
    }
    const stalled: Stream[] = [];
    let repeatedBytes = 0;
    const t1 = performance.now();
    const hostilePeak = await peakDuring(pid, async () => {
      await Promise.all(
        peers.map(async (p) => {
          const ask = async (list: CID[]) => {
            const stream = await p.dialProtocol(multiaddr(address), BLOCKS_PROTOCOL);
            const lp = lpStream(stream, { maxDataLength: 2 * MiB, maxBufferSize: 64 * MiB });
            await lp.write(dagCbor.encode({ cids: list }));
            return { stream, lp };
          };
          for (let k = 0; k < 2; k++) {
            const s = await ask(cids);
            s.stream.pause();
            stalled.push(s.stream);
          }
          const repeat = await Promise.all([0, 1].map(() => ask(Array.from({ length: 1024 }, () => cids[0]))));
          for (const r of repeat)
            for (let i = 0; i < 1024; i++) {
              const answer = await r.lp.read();
              repeatedBytes += answer.byteLength;
            }
        }),
      );
      // Let the stalled streams hold what they can.
      await new Promise((r) => setTimeout(r, 2000));
    });
    const hostileSecs = (performance.now() - t1) / 1000;
    for (const s of stalled) s.abort(new Error('bench over'));
    const mib = (x: number) => `${x.toFixed(0)} MiB`;
    return [
      {
        workload: 'PEERS block serving',
        impl: `dso node, ${PEERS} peers fetching every block at once (P2PNode.fetchBlocks)`,
        size: `${blocks} x 1 MB blocks, ${((PEERS * blocks * BLOCK) / 1e9).toFixed(2)} GB served`,
        seconds: honestSecs,
        throughput: (PEERS * blocks * BLOCK) / 1e6 / honestSecs,
        unit: 'MB/s',
        note: `node RSS idle ${mib(idle)}, peak ${mib(honestPeak)} (+${mib(honestPeak - idle)}; budget ${budget} MiB of blocks in flight)`,
      },
      {
        workload: 'PEERS block serving',
        impl: `dso node, ${PEERS} hostile peers: 2 x 1,024 repeats of one block + 2 stalled full requests each`,
        size: `${PEERS * 2 * 1024} CIDs repeated, ${PEERS * 2} streams stalled`,
        seconds: hostileSecs,
        throughput: repeatedBytes / 1e6 / hostileSecs,
        unit: 'MB/s',
        note:
          `node RSS idle ${mib(idle)}, peak ${mib(hostilePeak)} (+${mib(hostilePeak - idle)}; budget ${budget} MiB); ` +
          `repeats answered ${(repeatedBytes / (PEERS * 2 * (stored / blocks))).toFixed(2)}x a block per request; ` +
          `before the budgets one such request took a node from 109 to 1,148 MiB (issue 13)`,
      },
    ];
  } finally {
    await Promise.all([...clients.map((c) => c.stop()), ...peers.map((p) => p.stop())]);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
