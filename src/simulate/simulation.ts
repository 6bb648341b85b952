/**
 * `dso simulate`: N nodes, a fraction of them Byzantine, R rounds of sharing.
 *
 * Each round has a set of true experiences (known ground truth). Honest nodes
 * report each with probability 0.98, their own noisy view of its embedding
 * (10% of sign bits flipped) and a confidence in [0.9, 1]; they also send a
 * noisy copy (10% flips) of the round's true community delta. Byzantine nodes
 * attack as named:
 *  - sign-flip: the honest texts with every sign flipped, and flipped deltas;
 *  - random: the honest texts with random signs, and random deltas;
 *  - sybil: all Byzantine identities push the same 10 invented experiences;
 *  - spam: each Byzantine node sends 50 invented experiences of its own;
 *  - collusion: flipped honest records plus 10 shared invented ones.
 * Every node's records go through the real protocol: DAG-CBOR blocks, CIDs,
 * a Merkle root, an EIP-712 signature; blocks move through an in-memory
 * content exchange; each batch is registered on one shared in-process chain
 * (ExperienceRegistry) from the node's own account and voted on by an
 * auditor after verification (openBatch). What is accepted is decided by
 * SemanticAggregator over the verified records; deltas by DeltaSoup.
 */
import os from 'node:os';

import { type CID } from 'multiformats/cid';
import { Piscina } from 'piscina';
import { type Hex, keccak256, parseEther, toHex, zeroAddress } from 'viem';

import { aggregateCommunityDeltas } from '../aggregate/delta-soup.js';
import { type ReportedExperience, SemanticAggregator } from '../aggregate/semantic.js';
import { DsoError } from '../core/errors.js';
import { workerScript } from '../core/worker-script.js';
import { createEngine } from '../engine/create-engine.js';
import type { Engine } from '../engine/types.js';
import { openBatch } from '../network/batch.js';
import { type ChainConnection, startInProcessChain } from '../network/chain.js';
import { cidOfBlock } from '../network/content-store.js';
import { identityFromKey, type NodeIdentity } from '../network/identity.js';
import { RegistryClient } from '../network/registry.js';
import { codeAgreement as agreement } from '../simd/reference/hamming.js';
import { type Attack, ATTACKS, buildNodeOutputs, nodeKey, type NodeOutput, type NodeTask, roundTruth } from './sim-nodes.js';

export { ATTACKS, type Attack } from './sim-nodes.js';

/** Nodes per worker task: enough to amortise a message, few enough to spread a round over the pool. */
const NODES_PER_TASK = 25;

export interface SimulationOptions {
  nodes: number;
  /** Fraction of Byzantine nodes, [0, 1). */
  byzantine: number;
  attack: Attack;
  rounds: number;
  experiencesPerRound?: number;
  /** Register and vote every batch on the shared chain (default true). */
  chain?: boolean;
  /** Pool threads building the nodes' batches (default: the core count; 0: on this thread). */
  workers?: number;
  votingThreshold?: number;
  /** Parameters of the model FedAvg would exchange instead (default 0.5e9: a small agent LLM). */
  modelParams?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface RoundReport {
  round: number;
  seconds: number;
  /** Mean bytes an honest node publishes this round (records, manifest, announcement). */
  bytesPerNode: number;
  fedAvgBytesPerNode: number;
  accepted: number;
  precision: number;
  recall: number;
  /** Share of accepted true experiences' code bits equal to the honest-only majority. */
  signAgreement: number;
  /** Share of DeltaSoup's bits equal to the honest-only DeltaSoup. */
  deltaAgreement: number;
  batchesRegistered: number;
}

const DIM = 384;

function checkOptions(o: SimulationOptions): void {
  if (!Number.isInteger(o.nodes) || o.nodes < 2) throw new DsoError('INVALID_COUNT', `nodes must be an integer >= 2, got ${o.nodes}`);
  if (!(o.byzantine >= 0 && o.byzantine < 1)) throw new DsoError('INVALID_ARGUMENT', `byzantine must be in [0, 1), got ${o.byzantine}`);
  if (!ATTACKS.includes(o.attack))
    throw new DsoError('INVALID_ARGUMENT', `attack must be one of ${ATTACKS.join(', ')}, got ${String(o.attack)}`);
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new DsoError('INVALID_COUNT', `rounds must be an integer >= 1, got ${o.rounds}`);
}

/** The chain side: every node a funded member, plus an auditor whose yes joins each submitter's own. */
interface SimChain {
  chain: ChainConnection;
  auditor: RegistryClient;
  registries: RegistryClient[];
}

async function startSimChain(ids: NodeIdentity[]): Promise<SimChain> {
  const chain = await startInProcessChain();
  const audit = identityFromKey(keccak256(toHex('dso simulate auditor')));
  await chain.fund(audit.address, parseEther('1000'));
  for (const id of ids) await chain.fund(id.address, parseEther('10'));
  // Only members register batches: every node is one, and the auditor's yes joins each submitter's own.
  const auditor = await RegistryClient.deploy(chain, audit, {
    votingPeriod: 365 * 24 * 3600,
    members: [audit.address, ...ids.map((id) => id.address)],
  });
  return { chain, auditor, registries: ids.map((id) => RegistryClient.at(chain, id, auditor.address)) };
}

/** What one round's exchange leaves: each verified batch as reports, each node's delta, and the traffic. */
interface RoundExchange {
  verified: Map<string, ReportedExperience[]>;
  deltas: { l: { code: Uint8Array; scales: Float32Array; dim: number } }[];
  honestBytes: number;
  registered: number;
}

interface SimContext {
  o: SimulationOptions;
  seed: number;
  perRound: number;
  ids: NodeIdentity[];
  byzantineFrom: number;
  isByz: (i: number) => boolean;
  chainId: number;
  registry: Hex;
  onChain: SimChain | undefined;
  pool: Piscina | undefined;
  progress: () => void;
}

/** Nodes build their batches (in the pool); this thread registers each, verifies it from the exchanged blocks, and votes. */
async function exchangeRound(c: SimContext, r: number): Promise<RoundExchange> {
  const { o } = c;
  const tasks: NodeTask[] = [];
  for (let n = 0; n < o.nodes; n += NODES_PER_TASK) {
    tasks.push({
      seed: c.seed,
      round: r,
      nodes: Array.from({ length: Math.min(NODES_PER_TASK, o.nodes - n) }, (_, k) => n + k),
      byzantineFrom: c.byzantineFrom,
      attack: o.attack,
      perRound: c.perRound,
      chainId: c.chainId,
      registry: c.registry,
    });
  }
  const run = (t: NodeTask): Promise<NodeOutput[]> => (c.pool ? (c.pool.run(t) as Promise<NodeOutput[]>) : buildNodeOutputs(t));
  const blocks = new Map<string, Uint8Array>();
  const out: RoundExchange = {
    verified: new Map(),
    deltas: new Array<RoundExchange['deltas'][number]>(o.nodes),
    honestBytes: 0,
    registered: 0,
  };
  // Batches are built in the pool while this thread registers and verifies the ones already built.
  for (const outputs of tasks.map(run)) {
    for (const node of await outputs) {
      const i = node.node;
      out.deltas[i] = { l: { code: node.delta, scales: new Float32Array([c.isByz(i) ? 10 : 0.01]), dim: DIM } };
      const b = node.batch;
      if (b) {
        for (const rec of b.records) blocks.set(rec.cid, rec.bytes);
        blocks.set(b.manifest.cid, b.manifest.bytes);
        const bytes = b.records.reduce((n, x) => n + x.bytes.byteLength, 0) + b.manifest.bytes.byteLength + b.envelope.byteLength;
        if (!c.isByz(i)) out.honestBytes += bytes;
        let batchId: bigint | undefined;
        if (c.onChain) {
          batchId = await c.onChain.registries[i].submitBatch(b.announcement.root, cidOfBlock(b.envelope).toString(), b.announcement.count);
          out.registered++;
        }
        // The auditor verifies the batch from the exchanged blocks before voting, and before anything is counted.
        try {
          const opened = await openBatch(b.announcement, async (cid: CID) => blocks.get(cid.toString()) as Uint8Array, {
            chainId: c.chainId,
            registry: c.registry,
          });
          if (batchId !== undefined) await c.onChain?.auditor.vote(batchId, true);
          out.verified.set(
            c.ids[i].address,
            opened.records.map(({ opened: x }) => ({
              text: x.text,
              domain: x.domain,
              confidence: x.confidence,
              code: x.code,
              scales: x.scales,
              dim: x.dim,
            })),
          );
        } catch {
          // A batch that does not verify is neither voted in nor counted.
        }
      }
      c.progress();
    }
  }
  return out;
}

/** The robust merge of the round against the truth and against the honest nodes alone. */
async function scoreRound(
  c: SimContext,
  r: number,
  x: RoundExchange,
  aggregator: SemanticAggregator,
  engine: Engine,
): Promise<Omit<RoundReport, 'seconds'>> {
  const { o } = c;
  const { truths } = roundTruth(c.seed, r, c.perRound);
  const indexOf = new Map(c.ids.map((id, i) => [id.address as string, i]));
  const byzCount = o.nodes - c.byzantineFrom;
  const { accepted } = await aggregator.aggregateExperiences(x.verified, {
    votingThreshold: o.votingThreshold ?? 0.5,
    totalNodes: o.nodes,
  });
  const truthSet = new Set(truths.map((t) => t.text));
  const good = accepted.filter((a) => truthSet.has(a.text));
  const honestOnly = new Map([...x.verified].filter(([addr]) => !c.isByz(indexOf.get(addr) as number)));
  const ref = new Map(
    (await aggregator.aggregateExperiences(honestOnly, { votingThreshold: 0, totalNodes: o.nodes })).accepted.map((a) => [a.text, a.code]),
  );
  const agreements = good.map((a) => (ref.has(a.text) ? agreement(a.code, ref.get(a.text) as Uint8Array) : 1));
  const soup = await aggregateCommunityDeltas(x.deltas, { engine });
  const soupHonest = await aggregateCommunityDeltas(x.deltas.slice(0, o.nodes - byzCount), { engine });
  const honestNodes = o.nodes - byzCount;
  return {
    round: r + 1,
    bytesPerNode: honestNodes > 0 ? x.honestBytes / honestNodes : 0,
    fedAvgBytesPerNode: 4 * (o.modelParams ?? 0.5e9),
    accepted: accepted.length,
    precision: accepted.length === 0 ? 1 : good.length / accepted.length,
    recall: good.length / truths.length,
    signAgreement: agreements.length === 0 ? 1 : agreements.reduce((s, v) => s + v, 0) / agreements.length,
    deltaAgreement: agreement(soup.l.code, soupHonest.l.code),
    batchesRegistered: x.registered,
  };
}

export async function simulate(o: SimulationOptions): Promise<{ rounds: RoundReport[]; totalSeconds: number }> {
  checkOptions(o);
  const t0 = performance.now();
  const seed = o.seed ?? 1;
  const byzantineFrom = o.nodes - Math.round(o.nodes * o.byzantine);
  const ids = Array.from({ length: o.nodes }, (_, i) => identityFromKey(nodeKey(seed, i)));
  const workers = o.workers ?? os.availableParallelism?.() ?? os.cpus().length;
  const pool =
    workers > 0 ? new Piscina({ ...workerScript('sim-worker', import.meta.url), minThreads: workers, maxThreads: workers }) : undefined;
  const engine = await createEngine({ backend: 'native' });
  const aggregator = new SemanticAggregator({ engine });
  const onChain = o.chain === false ? undefined : await startSimChain(ids);
  const total = o.rounds * o.nodes;
  let done = 0;
  const c: SimContext = {
    o,
    seed,
    perRound: o.experiencesPerRound ?? 20,
    ids,
    byzantineFrom,
    isByz: (i) => i >= byzantineFrom,
    chainId: onChain?.chain.chain.id ?? 31337,
    registry: onChain?.auditor.address ?? zeroAddress,
    onChain,
    pool,
    progress: () => o.onProgress?.(++done, total),
  };
  const reports: RoundReport[] = [];
  try {
    for (let r = 0; r < o.rounds; r++) {
      const tr = performance.now();
      const scored = await scoreRound(c, r, await exchangeRound(c, r), aggregator, engine);
      reports.push({ ...scored, seconds: (performance.now() - tr) / 1000 });
    }
  } finally {
    await pool?.destroy();
    await aggregator.close();
    await engine.close();
    await onChain?.chain.close();
  }
  return { rounds: reports, totalSeconds: (performance.now() - t0) / 1000 };
}
