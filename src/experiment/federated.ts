/**
 * The federated experiment: N nodes learn from their own shard of the
 * training problems, share through the DSO protocol, and are evaluated on
 * the held-out problems in four conditions:
 *  - baseline: no experiences;
 *  - own: each honest node's library after learning on its shard alone;
 *  - shared: that library after merging what the network accepted;
 *  - central: one library learned on all the training problems at once.
 * Sharing is the network's, end to end in one process: each node compresses
 * its experiences (BitDelta), builds a batch (DAG-CBOR records, Merkle root,
 * EIP-712 signature) and registers it on an in-process chain; every member
 * fetches every other batch, verifies it (openBatch) and votes; the batches
 * the registry accepts go through the Byzantine-robust aggregation
 * (SemanticAggregator, as dso simulate and dso node use it), and what it
 * accepts is merged into each honest library as the node's trainer does.
 * A fraction of the nodes can be Byzantine (attacks.ts); the experiment then
 * also evaluates the merge of the honest batches alone, and reports how much
 * of that accuracy the honest nodes keep.
 */
import { performance } from 'node:perf_hooks';

import { keccak256, toHex } from 'viem';

import { type ReportedExperience, SemanticAggregator } from '../aggregate/semantic.js';
import type { DatasetProblem } from '../aso/datasets.js';
import type { ChatModel } from '../aso/models/chat-model.js';
import { addTokens, costUsd, noTokens, type TokenCounts, type TokenPrices } from '../aso/models/tokens.js';
import { ActiveSemanticOptimizer } from '../aso/optimizer.js';
import { BitDeltaQuantizer } from '../bitdelta/quantizer.js';
import type { CompressedExperience, CompressibleExperience } from '../bitdelta/record.js';
import { wholeNumber } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { seededRandom } from '../core/random.js';
import { createEngine } from '../engine/create-engine.js';
import type { BackendChoice } from '../engine/types.js';
import { type Condition, type ConditionResult, evaluate } from '../evaluate/evaluate.js';
import { librarySource } from '../evaluate/sources.js';
import { bootstrapMeanCi, mean } from '../evaluate/stats.js';
import type { Embedder } from '../experience/embedders/embedder.js';
import { ExperienceLibrary } from '../experience/library.js';
import type { AddOperation } from '../experience/operations.js';
import { isExperienceText } from '../experience/text.js';
import { buildBatch, encodeEnvelope, openBatch } from '../network/batch.js';
import { cidOfBlock } from '../network/content-store.js';
import { identityFromKey } from '../network/identity.js';
import { type Attack, ATTACKS, byzantinePlan } from './attacks.js';
import { ExperimentRegistry } from './registry.js';

export interface FederatedOptions {
  model: ChatModel;
  embedder: Embedder;
  train: readonly DatasetProblem[];
  test: readonly DatasetProblem[];
  nodes: number;
  /** Fraction of Byzantine nodes, [0, 0.5). */
  byzantine?: number;
  attack?: Attack;
  epochs?: number;
  groupSize?: number;
  /** Answers per test problem and condition (default 1). */
  samples?: number;
  retrieveK?: number;
  concurrency?: number;
  /** Experiences are shared at or above this confidence (default 0.7, as dso node). */
  acceptanceThreshold?: number;
  /** Support an experience needs in the robust merge (default 0.5, as dso simulate). */
  votingThreshold?: number;
  /** Parameters of the model FedAvg would exchange instead (default 0.5e9). */
  modelParams?: number;
  prices?: TokenPrices;
  backend?: BackendChoice;
  seed?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface NodeReport {
  node: number;
  address: string;
  byzantine: boolean;
  trainProblems: number;
  /** Experiences in its library after learning, and after merging. */
  ownExperiences: number;
  sharedExperiences: number;
  recordsShared: number;
  bytesSent: number;
  bytesReceived: number;
  learning: TokenCounts & { costUsd: number };
  passAt1: Record<string, number>;
}

export interface FederatedReport {
  conditions: ConditionResult[];
  nodes: NodeReport[];
  communication: {
    bytesSentPerNode: number;
    bytesReceivedPerNode: number;
    fedAvgBytesPerNode: number;
    batchesAccepted: number;
    batches: number;
  };
  /** Experiences the robust merge accepted, and how many of them were invented by Byzantine nodes. */
  merge: { accepted: number; fromByzantineOnly: number; rejected: number };
  learning: { nodes: TokenCounts & { costUsd: number }; central: TokenCounts & { costUsd: number } };
  /** pass@1 of shared over shared-honest-only, when there are Byzantine nodes. */
  keptByHonest?: number;
  seconds: number;
}

const DEFAULT_PARAMS = 0.5e9;

function shards<T>(items: readonly T[], n: number, seed: number): T[][] {
  const order = items.map((_, i) => i);
  const rand = seededRandom(seed ^ 0x5eed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const out: T[][] = Array.from({ length: n }, () => []);
  order.forEach((idx, r) => out[r % n].push(items[idx]));
  return out;
}

const priced = (t: TokenCounts, prices: TokenPrices) => ({ ...t, costUsd: costUsd(t, prices) });

function reported(r: CompressedExperience): ReportedExperience {
  return { text: r.text, domain: r.domain, confidence: r.confidence, code: r.code, scales: r.scales, dim: r.dim };
}

export async function runFederated(o: FederatedOptions): Promise<FederatedReport> {
  const t0 = performance.now();
  const n = wholeNumber(o.nodes, 'nodes', 'INVALID_COUNT', 2, 1000);
  const f = o.byzantine ?? 0;
  if (!(f >= 0 && f < 0.5)) throw new DsoError('INVALID_ARGUMENT', `byzantine must be in [0, 0.5), got ${f}`);
  const attack = o.attack ?? 'sybil';
  if (!ATTACKS.includes(attack))
    throw new DsoError('INVALID_ARGUMENT', `attack must be one of ${ATTACKS.join(', ')}, got ${String(attack)}`);
  if (o.train.length < n) throw new DsoError('INVALID_ARGUMENT', `${n} nodes need at least ${n} training problems, got ${o.train.length}`);
  if (o.test.length === 0) throw new DsoError('INVALID_ARGUMENT', 'the experiment needs test problems');
  const seed = o.seed ?? 1;
  const prices = o.prices ?? { prompt: 0, completion: 0 };
  const byzantineCount = Math.round(n * f);
  const honest = (i: number) => i < n - byzantineCount;
  const ids = Array.from({ length: n }, (_, i) => identityFromKey(keccak256(toHex(`dso experiment federated ${seed} ${i}`))));
  const parts = shards(o.train, n, seed);
  const engine = await createEngine({ backend: o.backend ?? 'native', threads: 1 });
  const quantizer = new BitDeltaQuantizer({ engine });
  const aggregator = new SemanticAggregator({ engine });
  const open = (namespace: string) => ExperienceLibrary.open({ namespace, embedder: o.embedder, engine, capacity: 10_000 });
  const libraries: ExperienceLibrary[] = [];
  let registry: ExperimentRegistry | undefined;
  const progress = (stage: string, done: number, total: number) => o.onProgress?.(stage, done, total);
  try {
    // 1. Learning: every honest node (and Byzantine ones whose attack starts from learning) on its shard, and one central library.
    const plans = ids.map((_, i) => (honest(i) ? undefined : byzantinePlan(attack, i, seed)));
    for (let i = 0; i < n; i++) libraries.push(await open(`node-${i}`));
    const central = await open('central');
    libraries.push(central);
    const learners = [...ids.keys()].filter((i) => honest(i) || plans[i]?.learns === true);
    const tokens: TokenCounts[] = ids.map(() => noTokens());
    let learned = 0;
    const learnOn = async (library: ExperienceLibrary, dataset: readonly DatasetProblem[], source: string): Promise<TokenCounts> => {
      const aso = new ActiveSemanticOptimizer({ library, model: o.model, groupSize: o.groupSize ?? 4, source });
      try {
        await aso.epoch({ dataset, epochs: o.epochs ?? 1, onProgress: () => progress('learning', ++learned, learnTotal) });
        return aso.tokens;
      } finally {
        aso.close();
      }
    };
    const learnTotal = (learners.reduce((s, i) => s + parts[i].length, 0) + o.train.length) * (o.epochs ?? 1);
    // One learner at a time: each one's groups still run in parallel, and a run repeats exactly against a seeded server.
    for (const i of learners) tokens[i] = await learnOn(libraries[i], parts[i], ids[i].address);
    const centralTokens = await learnOn(central, o.train, 'central');
    const ownSizes = libraries.slice(0, n).map((l) => l.size);

    // 2. Sharing: compress, batch, sign, register; every member verifies every other batch and votes.
    registry = await ExperimentRegistry.start(ids);
    const blocks = new Map<string, Uint8Array>();
    const batches: { node: number; id: bigint; bytes: number; announcement: Awaited<ReturnType<typeof buildBatch>>['announcement'] }[] = [];
    const shared: number[] = ids.map(() => 0);
    for (let i = 0; i < n; i++) {
      let records = await quantizer.compressForNetwork(libraries[i], { minConfidence: o.acceptanceThreshold ?? 0.7 });
      const plan = plans[i];
      if (plan !== undefined) {
        const invented: CompressibleExperience[] = plan.invented.map((text, k) => ({
          id: `invented-${k}`,
          text,
          embedding: new Float32Array(0),
          confidence: 1,
          domain: 'general',
          epoch: 1,
          source: ids[i].address,
          createdAt: 0,
        }));
        const vectors = invented.length > 0 ? await o.embedder.embed(invented.map((e) => e.text)) : new Float32Array(0);
        invented.forEach((e, k) => (e.embedding = vectors.subarray(k * o.embedder.dim, (k + 1) * o.embedder.dim)));
        const lies = await quantizer.compressForNetwork(invented, { minConfidence: 0 });
        records = [...records.map((r) => ({ ...r, code: plan.codes(r) })), ...lies];
      }
      if (records.length === 0) continue;
      shared[i] = records.length;
      const b = await buildBatch(records, {
        identity: ids[i],
        network: 'dso-experiment',
        ...registry.domain,
        timestamp: 1_800_000_000_000 + i,
      });
      const envelope = encodeEnvelope(b.announcement);
      for (const r of b.records) blocks.set(r.cid.toString(), r.bytes);
      blocks.set(b.manifest.cid.toString(), b.manifest.bytes);
      const bytes = b.records.reduce((s, r) => s + r.bytes.byteLength, 0) + b.manifest.bytes.byteLength + envelope.byteLength;
      const id = await registry.submit(i, b.announcement.root, cidOfBlock(envelope).toString(), b.announcement.count);
      batches.push({ node: i, id, bytes, announcement: b.announcement });
    }
    const received = ids.map(() => 0);
    const verified = new Map<number, ReportedExperience[]>();
    let votes = 0;
    for (const batch of batches) {
      for (let voter = 0; voter < n; voter++) {
        let approve: boolean;
        if (honest(voter)) {
          // An honest member fetches and verifies every block of the batch before it votes.
          try {
            const opened = await openBatch(
              batch.announcement,
              async (cid) => blocks.get(cid.toString()) ?? new Uint8Array(0),
              registry.domain,
            );
            if (voter !== batch.node) received[voter] += batch.bytes;
            if (!verified.has(batch.node))
              verified.set(
                batch.node,
                opened.records.map(({ opened: r }) => reported(r)),
              );
            approve = true;
          } catch {
            approve = false;
          }
        } else {
          // Byzantine members approve each other and reject the honest.
          approve = !honest(batch.node);
        }
        // A submission is its submitter's yes; the registry decides as soon as the outcome is settled, and a member does not vote on a decided batch.
        if (voter !== batch.node && (await registry.status(batch.id)) === 'pending') await registry.vote(voter, batch.id, approve);
        progress('voting', ++votes, batches.length * n);
      }
    }
    const accepted = [];
    for (const b of batches) if ((await registry.status(b.id)) === 'accepted') accepted.push(b);

    // 3. The robust merge over the accepted batches (and over the honest ones alone, for reference).
    const merge = async (from: typeof batches) =>
      aggregator.aggregateExperiences(
        new Map(
          from
            .filter((b) => verified.has(b.node))
            .map((b) => [ids[b.node].address as string, verified.get(b.node) as ReportedExperience[]]),
        ),
        { votingThreshold: o.votingThreshold ?? 0.5, totalNodes: n },
      );
    const merged = await merge(accepted);
    const byzantineAddresses = new Set(ids.filter((_, i) => !honest(i)).map((x) => x.address as string));
    const honestMerged = byzantineCount > 0 ? await merge(accepted.filter((b) => honest(b.node))) : undefined;

    // 4. Evaluation on the held-out problems.
    const honestNodes = [...ids.keys()].filter(honest);
    const evalOpts = {
      model: o.model,
      problems: o.test,
      samples: o.samples ?? 1,
      retrieveK: o.retrieveK,
      concurrency: o.concurrency,
      prices,
      seed,
    };
    const perNode = new Map<number, Record<string, number>>();
    const scores = new Map<string, number[][]>();
    const results = new Map<string, ConditionResult[]>();
    let evaluated = 0;
    const evalTotal = (2 + honestNodes.length * (honestMerged ? 3 : 2)) * o.test.length * (o.samples ?? 1);
    const run = async (conditions: Condition[], node?: number) => {
      const r = await evaluate({ ...evalOpts, conditions, onProgress: () => progress('evaluating', ++evaluated, evalTotal) });
      for (const c of r.conditions) {
        const key = c.name;
        results.set(key, [...(results.get(key) ?? []), c]);
        scores.set(key, [...(scores.get(key) ?? []), r.scores[key]]);
        if (node !== undefined) perNode.set(node, { ...perNode.get(node), [key]: c.passAt1 });
      }
    };
    await run([{ name: 'baseline' }, { name: 'central', source: librarySource(central) }]);
    const addAll = async (library: ExperienceLibrary, list: { text: string; domain: string; confidence: number; source: string }[]) => {
      const ops: AddOperation[] = list
        .filter((e) => isExperienceText(e.text))
        .map((e) => ({ op: 'add', text: e.text, domain: e.domain, confidence: e.confidence, source: e.source }));
      if (ops.length > 0) await library.applyOperations(ops);
    };
    const network = (list: typeof merged.accepted) => list.map((e) => ({ ...e, source: e.reporters[0] }));
    for (const i of honestNodes) {
      await run([{ name: 'own', source: librarySource(libraries[i]) }], i);
      if (honestMerged) {
        const reference = await open(`node-${i}-honest-merge`);
        try {
          await addAll(reference, libraries[i].list());
          await addAll(reference, network(honestMerged.accepted));
          await run([{ name: 'shared (honest batches only)', source: librarySource(reference) }], i);
        } finally {
          await reference.close();
        }
      }
      await addAll(libraries[i], network(merged.accepted));
      await run([{ name: 'shared', source: librarySource(libraries[i]) }], i);
    }

    const order = ['baseline', 'own', 'shared', 'central', 'shared (honest batches only)'];
    const conditions: ConditionResult[] = order
      .filter((name) => results.has(name))
      .map((name) => {
        const rs = results.get(name) as ConditionResult[];
        // A problem's score is its pass@1 averaged over the honest nodes evaluated in this condition.
        const perProblem = o.test.map((_, p) => mean((scores.get(name) as number[][]).map((s) => s[p])));
        const sum = (k: 'prompt' | 'completion') => rs.reduce((s, r) => s + r.tokens[k], 0);
        return {
          ...rs[0],
          passAt1: mean(perProblem),
          passAtK: mean(rs.map((r) => r.passAtK)),
          meanReward: mean(rs.map((r) => r.meanReward)),
          passAt1Ci95: bootstrapMeanCi(perProblem, { seed }),
          tokens: { prompt: sum('prompt'), completion: sum('completion') },
          costUsd: rs.reduce((s, r) => s + r.costUsd, 0),
          seconds: rs.reduce((s, r) => s + r.seconds, 0),
          overheadMsPerProblem: mean(rs.map((r) => r.overheadMsPerProblem)),
        };
      });
    const honestTokens = honestNodes.reduce((t, i) => addTokens(t, tokens[i]), noTokens());
    const byName = new Map(conditions.map((c) => [c.name, c]));
    const sent = honestNodes.map((i) => batches.find((b) => b.node === i)?.bytes ?? 0);
    const report: FederatedReport = {
      conditions,
      nodes: ids.map((id, i) => ({
        node: i,
        address: id.address,
        byzantine: !honest(i),
        trainProblems: parts[i].length,
        ownExperiences: ownSizes[i],
        sharedExperiences: libraries[i].size,
        recordsShared: shared[i],
        bytesSent: batches.find((b) => b.node === i)?.bytes ?? 0,
        bytesReceived: received[i],
        learning: priced(tokens[i], prices),
        passAt1: perNode.get(i) ?? {},
      })),
      communication: {
        bytesSentPerNode: mean(sent),
        bytesReceivedPerNode: mean(honestNodes.map((i) => received[i])),
        fedAvgBytesPerNode: 4 * (o.modelParams ?? DEFAULT_PARAMS),
        batchesAccepted: accepted.length,
        batches: batches.length,
      },
      merge: {
        accepted: merged.accepted.length,
        fromByzantineOnly: merged.accepted.filter((a) => a.reporters.every((r) => byzantineAddresses.has(r))).length,
        rejected: merged.rejected.length,
      },
      learning: { nodes: priced(honestTokens, prices), central: priced(centralTokens, prices) },
      seconds: (performance.now() - t0) / 1000,
    };
    const reference = byName.get('shared (honest batches only)');
    if (reference !== undefined && reference.passAt1 > 0)
      report.keptByHonest = (byName.get('shared') as ConditionResult).passAt1 / reference.passAt1;
    return report;
  } finally {
    for (const l of libraries) await l.close();
    await registry?.close();
    await aggregator.close();
    await quantizer.close();
    await engine.close();
  }
}
