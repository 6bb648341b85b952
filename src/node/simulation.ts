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
import { keccak256, parseEther, toHex } from 'viem';

import { aggregateCommunityDeltas } from '../aggregate/delta-soup.js';
import { type ReportedExperience, SemanticAggregator } from '../aggregate/semantic.js';
import type { CompressedExperience } from '../bitdelta/quantizer.js';
import { createEngine } from '../engine/create-engine.js';
import { DsoError } from '../errors.js';
import { buildBatch, encodeEnvelope, openBatch } from '../network/batch.js';
import { startInProcessChain } from '../network/chain.js';
import { cidOfBlock } from '../network/content-store.js';
import { type NodeIdentity, identityFromKey } from '../network/identity.js';
import { RegistryClient } from '../network/registry.js';

export const ATTACKS = ['sign-flip', 'random', 'sybil', 'spam', 'collusion'] as const;
export type Attack = (typeof ATTACKS)[number];

export interface SimulationOptions {
  nodes: number;
  /** Fraction of Byzantine nodes, [0, 1). */
  byzantine: number;
  attack: Attack;
  rounds: number;
  experiencesPerRound?: number;
  /** Register and vote every batch on the shared chain (default true). */
  chain?: boolean;
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
const BPR = DIM / 8;

function rngOf(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function agreement(a: Uint8Array, b: Uint8Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) {
    let x = ~(a[i] ^ b[i]) & 0xff;
    while (x) {
      same++;
      x &= x - 1;
    }
  }
  return same / (a.length * 8);
}

export async function simulate(o: SimulationOptions): Promise<{ rounds: RoundReport[]; totalSeconds: number }> {
  if (!Number.isInteger(o.nodes) || o.nodes < 2) throw new DsoError('INVALID_COUNT', `nodes must be an integer >= 2, got ${o.nodes}`);
  if (!(o.byzantine >= 0 && o.byzantine < 1)) throw new DsoError('INVALID_ARGUMENT', `byzantine must be in [0, 1), got ${o.byzantine}`);
  if (!ATTACKS.includes(o.attack)) throw new DsoError('INVALID_ARGUMENT', `attack must be one of ${ATTACKS.join(', ')}, got ${String(o.attack)}`);
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new DsoError('INVALID_COUNT', `rounds must be an integer >= 1, got ${o.rounds}`);
  const t0 = performance.now();
  const rand = rngOf(o.seed ?? 1);
  const perRound = o.experiencesPerRound ?? 20;
  const byzCount = Math.round(o.nodes * o.byzantine);
  const ids: NodeIdentity[] = Array.from({ length: o.nodes }, (_, i) => identityFromKey(keccak256(toHex(`dso simulate node ${o.seed ?? 1} ${i}`))));
  const isByz = (i: number) => i >= o.nodes - byzCount;
  const engine = await createEngine({ backend: 'native' });
  const aggregator = new SemanticAggregator({ engine });
  const chain = o.chain === false ? undefined : await startInProcessChain();
  let registries: RegistryClient[] = [];
  let auditor: RegistryClient | undefined;
  if (chain) {
    const audit = identityFromKey(keccak256(toHex('dso simulate auditor')));
    await chain.fund(audit.address, parseEther('1000'));
    for (const id of ids) await chain.fund(id.address, parseEther('10'));
    auditor = await RegistryClient.deploy(chain, audit, { quorum: 1, votingPeriod: 365 * 24 * 3600, members: [audit.address] });
    registries = ids.map((id) => RegistryClient.at(chain, id, (auditor as RegistryClient).address));
  }
  const randomCode = () => Uint8Array.from({ length: BPR }, () => Math.floor(rand() * 256));
  const noisy = (c: Uint8Array, p: number) =>
    Uint8Array.from(c, (b) => {
      let out = b;
      for (let j = 0; j < 8; j++) if (rand() < p) out ^= 1 << j;
      return out;
    });
  const flip = (c: Uint8Array) => c.map((b) => ~b & 0xff);
  const sharedLies = Array.from({ length: 10 }, (_, j) => ({ text: `When the coordinator sends order ${j}, obey it without checking.`, code: randomCode() }));
  const reports: RoundReport[] = [];
  const total = o.rounds * o.nodes;
  try {
    for (let r = 0; r < o.rounds; r++) {
      const tr = performance.now();
      const truths = Array.from({ length: perRound }, (_, i) => ({ text: `When round ${r} brings problem type ${i}, apply method ${(i * 31 + r * 7) % 97} and verify the result.`, code: randomCode() }));
      const trueDelta = randomCode();
      const rec = (i: number, text: string, code: Uint8Array, confidence: number): CompressedExperience => ({
        id: '',
        text,
        code,
        scales: new Float32Array([0.05]),
        dim: DIM,
        groupSize: DIM,
        confidence,
        domain: 'sim',
        epoch: r,
        source: ids[i].address,
        createdAt: 1_800_000_000_000 + r,
      });
      const blocks = new Map<string, Uint8Array>();
      const verified = new Map<string, ReportedExperience[]>();
      const deltas: { l: { code: Uint8Array; scales: Float32Array; dim: number } }[] = [];
      let honestBytes = 0;
      let registered = 0;
      for (let i = 0; i < o.nodes; i++) {
        let records: CompressedExperience[];
        let delta: Uint8Array;
        if (!isByz(i)) {
          records = truths.filter(() => rand() < 0.98).map((t) => rec(i, t.text, noisy(t.code, 0.1), 0.9 + 0.1 * rand()));
          delta = noisy(trueDelta, 0.1);
        } else if (o.attack === 'sign-flip') {
          records = truths.map((t) => rec(i, t.text, flip(t.code), 1));
          delta = flip(trueDelta);
        } else if (o.attack === 'random') {
          records = truths.map((t) => rec(i, t.text, randomCode(), 1));
          delta = randomCode();
        } else if (o.attack === 'sybil') {
          records = sharedLies.map((l) => rec(i, l.text, l.code, 1));
          delta = flip(trueDelta);
        } else if (o.attack === 'spam') {
          records = Array.from({ length: 50 }, (_, j) => rec(i, `When node ${i} says so in round ${r}, do task ${j} at once.`, randomCode(), 1));
          delta = randomCode();
        } else {
          records = [...truths.map((t) => rec(i, t.text, flip(t.code), 1)), ...sharedLies.map((l) => rec(i, l.text, l.code, 1))];
          delta = flip(trueDelta);
        }
        deltas.push({ l: { code: delta, scales: new Float32Array([isByz(i) ? 10 : 0.01]), dim: DIM } });
        if (records.length === 0) continue;
        const batch = await buildBatch(records, { identity: ids[i], network: 'dso-sim', chainId: chain?.chain.id ?? 31337, timestamp: 1_800_000_000_000 + r * 1000 });
        const envelope = encodeEnvelope(batch.announcement);
        for (const b of batch.records) blocks.set(b.cid.toString(), b.bytes);
        blocks.set(batch.manifest.cid.toString(), batch.manifest.bytes);
        const bytes = batch.records.reduce((n, b) => n + b.bytes.byteLength, 0) + batch.manifest.bytes.byteLength + envelope.byteLength;
        if (!isByz(i)) honestBytes += bytes;
        let batchId: bigint | undefined;
        if (chain) {
          batchId = await registries[i].submitBatch(batch.announcement.root, cidOfBlock(envelope).toString(), batch.announcement.count);
          registered++;
        }
        // The auditor verifies the batch from the exchanged blocks before voting and before anything is counted.
        try {
          const opened = await openBatch(batch.announcement, async (cid) => blocks.get(cid.toString()) as Uint8Array, { chainId: chain?.chain.id ?? 31337 });
          if (batchId !== undefined) await (auditor as RegistryClient).vote(batchId, true);
          verified.set(ids[i].address, opened.records.map(({ opened: x }) => ({ text: x.text, domain: x.domain, confidence: x.confidence, code: x.code, scales: x.scales, dim: x.dim })));
        } catch {
          // A batch that does not verify is neither voted in nor counted.
        }
        o.onProgress?.(r * o.nodes + i + 1, total);
      }
      const { accepted } = await aggregator.aggregateExperiences(verified, { votingThreshold: o.votingThreshold ?? 0.5, totalNodes: o.nodes });
      const truthSet = new Set(truths.map((t) => t.text));
      const good = accepted.filter((a) => truthSet.has(a.text));
      const honestOnly = new Map([...verified].filter(([addr]) => !isByz(ids.findIndex((x) => x.address === addr))));
      const ref = new Map((await aggregator.aggregateExperiences(honestOnly, { votingThreshold: 0, totalNodes: o.nodes })).accepted.map((a) => [a.text, a.code]));
      const agreements = good.map((a) => (ref.has(a.text) ? agreement(a.code, ref.get(a.text) as Uint8Array) : 1));
      const soup = await aggregateCommunityDeltas(deltas, { engine });
      const soupHonest = await aggregateCommunityDeltas(deltas.slice(0, o.nodes - byzCount), { engine });
      const honestNodes = o.nodes - byzCount;
      reports.push({
        round: r + 1,
        seconds: (performance.now() - tr) / 1000,
        bytesPerNode: honestNodes > 0 ? honestBytes / honestNodes : 0,
        fedAvgBytesPerNode: 4 * (o.modelParams ?? 0.5e9),
        accepted: accepted.length,
        precision: accepted.length === 0 ? 1 : good.length / accepted.length,
        recall: good.length / truths.length,
        signAgreement: agreements.length === 0 ? 1 : agreements.reduce((s, v) => s + v, 0) / agreements.length,
        deltaAgreement: agreement(soup.l.code, soupHonest.l.code),
        batchesRegistered: registered,
      });
    }
  } finally {
    await aggregator.close();
    await engine.close();
    await chain?.close();
  }
  return { rounds: reports, totalSeconds: (performance.now() - t0) / 1000 };
}
