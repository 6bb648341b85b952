/**
 * What each simulated node sends in a round, as a pure function of (seed,
 * round, node): the same whether it runs on the main thread or in a pool
 * worker, in any order. Honest and Byzantine behaviour is described in
 * simulation.ts.
 */
import { type Hex, keccak256, toHex } from 'viem';

import type { CompressedExperience } from '../bitdelta/record.js';
import { buildBatch, encodeEnvelope } from '../network/batch.js';
import { identityFromKey } from '../network/identity.js';

export const ATTACKS = ['sign-flip', 'random', 'sybil', 'spam', 'collusion'] as const;
export type Attack = (typeof ATTACKS)[number];

const DIM = 384;
const BPR = DIM / 8;

export function rngOf(...parts: number[]): () => number {
  let a = 0x9e3779b9;
  for (const p of parts) a = Math.imul(a ^ (p >>> 0), 0x85ebca6b) ^ (a >>> 13);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const randomCode = (rand: () => number) => Uint8Array.from({ length: BPR }, () => Math.floor(rand() * 256));
const flip = (c: Uint8Array) => c.map((b) => ~b & 0xff);
function noisy(c: Uint8Array, p: number, rand: () => number): Uint8Array {
  return Uint8Array.from(c, (b) => {
    let out = b;
    for (let j = 0; j < 8; j++) if (rand() < p) out ^= 1 << j;
    return out;
  });
}

export interface Truth {
  text: string;
  code: Uint8Array;
}

/** The round's true experiences and true community delta. */
export function roundTruth(seed: number, round: number, perRound: number): { truths: Truth[]; delta: Uint8Array } {
  const rand = rngOf(seed, round, 0xffffffff);
  const truths = Array.from({ length: perRound }, (_, i) => ({
    text: `When round ${round} brings problem type ${i}, apply method ${(i * 31 + round * 7) % 97} and verify the result.`,
    code: randomCode(rand),
  }));
  return { truths, delta: randomCode(rand) };
}

export function sharedLies(seed: number): Truth[] {
  const rand = rngOf(seed, 0xfffffffe);
  return Array.from({ length: 10 }, (_, j) => ({
    text: `When the coordinator sends order ${j}, obey it without checking.`,
    code: randomCode(rand),
  }));
}

export function nodeKey(seed: number, node: number): `0x${string}` {
  return keccak256(toHex(`dso simulate node ${seed} ${node}`));
}

export interface NodeTask {
  seed: number;
  round: number;
  nodes: number[];
  /** Nodes at or above this index are Byzantine. */
  byzantineFrom: number;
  attack: Attack;
  perRound: number;
  chainId: number;
  /** The registry's address (the EIP-712 domain's verifyingContract). */
  registry: Hex;
}

export interface NodeOutput {
  node: number;
  delta: Uint8Array;
  batch?: {
    announcement: Awaited<ReturnType<typeof buildBatch>>['announcement'];
    envelope: Uint8Array;
    manifest: { cid: string; bytes: Uint8Array };
    records: { cid: string; bytes: Uint8Array }[];
  };
}

export async function buildNodeOutputs(t: NodeTask): Promise<NodeOutput[]> {
  const { truths, delta: trueDelta } = roundTruth(t.seed, t.round, t.perRound);
  const lies = sharedLies(t.seed);
  const out: NodeOutput[] = [];
  for (const i of t.nodes) {
    const rand = rngOf(t.seed, t.round, i);
    const identity = identityFromKey(nodeKey(t.seed, i));
    const rec = (text: string, code: Uint8Array, confidence: number): CompressedExperience => ({
      id: '',
      text,
      code,
      scales: new Float32Array([0.05]),
      dim: DIM,
      groupSize: DIM,
      confidence,
      domain: 'sim',
      epoch: t.round,
      source: identity.address,
      createdAt: 1_800_000_000_000 + t.round,
    });
    let records: CompressedExperience[];
    let delta: Uint8Array;
    if (i < t.byzantineFrom) {
      records = truths.filter(() => rand() < 0.98).map((x) => rec(x.text, noisy(x.code, 0.1, rand), 0.9 + 0.1 * rand()));
      delta = noisy(trueDelta, 0.1, rand);
    } else if (t.attack === 'sign-flip') {
      records = truths.map((x) => rec(x.text, flip(x.code), 1));
      delta = flip(trueDelta);
    } else if (t.attack === 'random') {
      records = truths.map((x) => rec(x.text, randomCode(rand), 1));
      delta = randomCode(rand);
    } else if (t.attack === 'sybil') {
      records = lies.map((l) => rec(l.text, l.code, 1));
      delta = flip(trueDelta);
    } else if (t.attack === 'spam') {
      records = Array.from({ length: 50 }, (_, j) =>
        rec(`When node ${i} says so in round ${t.round}, do task ${j} at once.`, randomCode(rand), 1),
      );
      delta = randomCode(rand);
    } else {
      records = [...truths.map((x) => rec(x.text, flip(x.code), 1)), ...lies.map((l) => rec(l.text, l.code, 1))];
      delta = flip(trueDelta);
    }
    if (records.length === 0) {
      out.push({ node: i, delta });
      continue;
    }
    const b = await buildBatch(records, {
      identity,
      network: 'dso-sim',
      chainId: t.chainId,
      registry: t.registry,
      timestamp: 1_800_000_000_000 + t.round * 1000,
    });
    out.push({
      node: i,
      delta,
      batch: {
        announcement: b.announcement,
        envelope: encodeEnvelope(b.announcement),
        manifest: { cid: b.manifest.cid.toString(), bytes: b.manifest.bytes },
        records: b.records.map((r) => ({ cid: r.cid.toString(), bytes: r.bytes })),
      },
    });
  }
  return out;
}
