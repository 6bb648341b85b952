/**
 * `npm run bench`: W1 (pack), W2 (Hamming top-k) and W3 (median, trimmed
 * mean, majority) on every native tier this machine runs, beside the pure-TS
 * reference, the npm peers (SimSIMD, USearch) and the python peers (numpy,
 * FAISS) in the same run, and beside the machine's limits measured first.
 *
 *   npm run bench                 full sizes (as in the README)
 *   npm run bench -- --quick      small sizes, a smoke run
 *   npm run bench -- --only W2    some workloads (W1, W2, W3, W4 = BinaryIndex, RECALL, GPU, DSO = L1-L4 local DSO, NET = N1-N3 protocol and Byzantine robustness, NODE = dso node HTTP load, PEERS = dso node serving blocks to 20 peers, EVAL = dso eval overhead and concurrency, GAS = ExperienceRegistry gas per operation, LIVE = a batch through 5 dso node processes on anvil; comma-separated)
 *   npm run bench -- --gpu        GPU rows on a software adapter too (lavapipe; quick sizes)
 *
 * GPU rows run by default where a hardware WebGPU adapter exists.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { openGpu } from '../src/gpu/device.js';
import { createEngine } from '../src/index.js';
import { describeMachine } from './lib/machine.js';
import { printTable, type Row, writeJson } from './lib/report.js';
import { runPythonPeers } from './peers/python.js';
import { aggregateWorkload } from './workloads/aggregate.js';
import { byzantineWorkload } from './workloads/byzantine.js';
import { localDsoWorkload } from './workloads/dso-local.js';
import { evalWorkload } from './workloads/eval.js';
import { gasWorkload } from './workloads/gas.js';
import { gpuWorkload } from './workloads/gpu.js';
import { gpuKernelRows } from './workloads/gpu-kernels.js';
import { hammingData, hammingWorkload } from './workloads/hamming.js';
import { indexWorkload } from './workloads/index.js';
import { liveNetworkWorkload } from './workloads/live-network.js';
import { networkWorkload } from './workloads/network.js';
import { nodeLoadWorkload } from './workloads/node-load.js';
import { packWorkload } from './workloads/pack.js';
import { peerLoadWorkload } from './workloads/peer-load.js';
import { recallWorkload } from './workloads/recall.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const forceGpu = args.includes('--gpu');
const onlyArg = args.find((a, i) => args[i - 1] === '--only') ?? 'W1,W2,W3,W4,RECALL,GPU,DSO,NET,NODE,PEERS,EVAL,GAS,LIVE';
const only = new Set(onlyArg.split(',').map((s) => s.trim().toUpperCase()));
const outDir = args.find((a, i) => args[i - 1] === '--out') ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

const S = quick
  ? {
      w1: { rows: 20_000, dim: 384 },
      w2: { n: 20_000, batch: 100 },
      w3: { n: 64, d: 20_000, trim: 0.1 },
      w4: { n: 20_000, batch: 100, buildRows: 200_000, threads: 2 },
      recall: { n: 5_000, queries: 50, clusters: 100 },
      dso: { ingest: 10_000, batch: 2_000, queries: 300, steps: 40 },
      net: { records: 1_000 },
      peers: { blocks: 16 },
      gas: [10, 100],
      live: 200,
    }
  : {
      w1: { rows: 1_000_000, dim: 384 },
      w2: { n: 1_000_000, batch: 1_000 },
      w3: { n: 64, d: 1_000_000, trim: 0.1 },
      w4: { n: 1_000_000, batch: 1_000, buildRows: 10_000_000, threads: 2 },
      recall: { n: 50_000, queries: 200, clusters: 500 },
      dso: { ingest: 100_000, batch: 5_000, queries: 2_000, steps: 200 },
      net: { records: 10_000 },
      peers: { blocks: 64 },
      gas: [10, 100, 1000],
      live: 1_000,
    };

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function main() {
  console.log(`dso-engine bench (${quick ? 'quick' : 'full'} sizes)`);
  const machine = await describeMachine(quick);
  console.log(
    `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}\n` +
      `tiers: ${machine.tiers.join(', ')}; stream read ${machine.streamReadGBs.toFixed(1)} GB/s (1 thread); ` +
      `xor+popcount: ${Object.entries(machine.xorPopcountWordsPerSec)
        .map(([k, v]) => `${k} ${(v / 1e9).toFixed(1)} G words/s`)
        .join(', ')}\n`,
  );
  const rows: Row[] = [];
  const peerConfig: Record<string, object> = {};
  let ourDistances: Int32Array | undefined;
  let tempFiles: string[] = [];

  if (only.has('W1')) {
    rows.push(...(await packWorkload(machine, S.w1.rows, S.w1.dim)));
    peerConfig.w1 = { rows: S.w1.rows, dim: S.w1.dim };
  }
  if (only.has('W2')) {
    const data = hammingData(S.w2.n, S.w2.batch);
    console.log(`W2 codes: ${mib(data.base.byteLength)}`);
    const r = await hammingWorkload(machine, data);
    rows.push(...r.rows);
    ourDistances = r.distances;
    tempFiles = Object.values(data.files);
    peerConfig.w2 = { ...data.files, dim: data.dim, k: data.k, batchQueries: data.batchQueries, singleQueries: data.singleQueries };
  }
  if (only.has('W3')) {
    rows.push(...(await aggregateWorkload(machine, S.w3.n, S.w3.d, S.w3.trim)));
    peerConfig.w3 = S.w3;
  }
  if (only.has('W4')) {
    const r = await indexWorkload(machine, S.w4);
    rows.push(...r.rows);
    tempFiles.push(...Object.values(r.peerFiles));
    peerConfig.w4 = { ...r.peerFiles, threads: S.w4.threads };
  }
  if (only.has('RECALL')) rows.push(...(await recallWorkload(S.recall)));
  if (only.has('DSO')) rows.push(...(await localDsoWorkload(S.dso)));
  if (only.has('NODE')) rows.push(...(await nodeLoadWorkload(quick ? 3 : 10)));
  if (only.has('PEERS')) rows.push(...(await peerLoadWorkload(S.peers.blocks)));
  if (only.has('EVAL')) rows.push(...(await evalWorkload(quick ? 300 : 2_000)));
  if (only.has('NET')) rows.push(...(await networkWorkload(S.net.records)), ...(await byzantineWorkload()));
  if (only.has('GAS')) rows.push(...(await gasWorkload(S.gas)));
  if (only.has('LIVE')) rows.push(...(await liveNetworkWorkload(S.live)));

  const extra: Record<string, unknown> = {};
  if (only.has('GPU')) {
    const software = await openGpu()
      .then((ctx) => {
        ctx.device.destroy();
        return ctx.adapter.software;
      })
      .catch(() => undefined);
    if (software === undefined) {
      extra.gpu = 'no WebGPU adapter';
    } else if (software && !forceGpu) {
      extra.gpu = 'software adapter only (lavapipe): GPU rows skipped; --gpu runs them at quick sizes';
    } else {
      const small = quick || software;
      const sizes = small
        ? { packRows: 20_000, searchRows: 20_000, batch: 100, columns: 20_000 }
        : { packRows: 1_000_000, searchRows: 1_000_000, batch: 1_000, columns: 1_000_000 };
      const native = await createEngine({ backend: 'native' });
      const g = await gpuWorkload(sizes, native);
      rows.push(...g.rows);
      rows.push(...(await gpuKernelRows({ searchRows: 10 * sizes.searchRows, batch: sizes.batch, columns: 10 * sizes.columns }, native)));
      extra.gpu = g.note;
    }
    console.log(String(extra.gpu));
  }

  const peers = runPythonPeers(peerConfig);
  for (const f of tempFiles) rmSync(f, { force: true });
  if ('error' in peers) {
    console.warn(`python peers skipped: ${peers.error}`);
    extra.pythonPeers = peers.error;
  } else {
    extra.pythonPeers = { python: peers.python, numpy: peers.numpy, faiss: peers.faiss };
    for (const p of peers.rows) rows.push(toRow(p, machine.streamReadGBs));
    if (peers.faissDistances && ourDistances) {
      const same = peers.faissDistances.length === ourDistances.length && peers.faissDistances.every((v, i) => v === ourDistances[i]);
      extra.faissDistancesIdentical = same;
      console.log(`W2 batch: FAISS and dso distances ${same ? 'identical' : 'DIFFER'} for all ${ourDistances.length} results`);
    }
  }
  rows.sort((a, b) => a.workload.localeCompare(b.workload) || b.throughput - a.throughput);
  printTable(rows);
  const file = writeJson(outDir, machine, rows, { quick, sizes: S, ...extra });
  console.log(`\nwritten: ${file}`);

  function toRow(p: { workload: string; impl: string; seconds: number; queries?: number }, stream: number): Row {
    const base = { workload: p.workload, impl: p.impl, seconds: p.seconds };
    if (p.workload === 'W1') {
      const gb = (S.w1.rows * S.w1.dim * 4) / 1e9;
      return {
        ...base,
        workload: 'W1 pack',
        size: `${S.w1.rows} x ${S.w1.dim}`,
        throughput: gb / p.seconds,
        unit: 'GB/s',
        ofLimit: gb / p.seconds / stream,
        limit: 'stream',
      };
    }
    if (p.workload.startsWith('W2') || p.workload.startsWith('W4')) {
      const q = p.queries ?? 1;
      const n = p.workload.startsWith('W4') ? S.w4.n : S.w2.n;
      return {
        ...base,
        size: `${n} x 384 bits${q > 1 ? `, ${q} queries` : ''}`,
        seconds: p.seconds,
        throughput: q / p.seconds,
        unit: 'q/s',
      };
    }
    const bytes = p.workload === 'W3 majority' ? (S.w3.n * S.w3.d) / 8 : S.w3.n * S.w3.d * 4;
    return {
      ...base,
      size: `${S.w3.n} x ${S.w3.d}${p.workload === 'W3 majority' ? ' bits' : ''}`,
      throughput: bytes / 1e9 / p.seconds,
      unit: 'GB/s',
      ofLimit: bytes / 1e9 / p.seconds / stream,
      limit: 'stream',
    };
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
