/**
 * Which experiences leave when a library is over capacity.
 *  - importance: lowest confidence x (1 + uses) first;
 *  - temporal: least recently used (or created) first;
 *  - diversity: the most redundant first, i.e. the highest cosine to its
 *    nearest remaining neighbour, so the kept set stays spread out;
 *  - hybrid: a weighted rank of the three (importance 1/2, recency 1/4,
 *    uniqueness 1/4).
 * Ties go to the older experience. Experiences in `protect` (a batch's own
 * additions) are evicted only once every other candidate is gone.
 */
import type { Engine } from '../engine/types.js';
import type { Experience } from './experience.js';
import { dot } from './vectors.js';

export type EvictionPolicy = 'importance' | 'temporal' | 'diversity' | 'hybrid';
export const EVICTION_POLICIES: readonly EvictionPolicy[] = ['importance', 'temporal', 'diversity', 'hybrid'];

/** Hamming candidates examined per experience when looking for its nearest neighbour. */
const NEIGHBOUR_CANDIDATES = 8;

const importance = (e: Experience) => e.confidence * (1 + e.usageCount);
const recency = (e: Experience) => Math.max(e.lastUsedEpoch, e.epoch);

function olderFirst(a: Experience, b: Experience): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Per experience, its nearest neighbours among `all` by cosine, best first (Hamming pre-selection). */
async function neighbours(all: Experience[], engine: Engine): Promise<{ row: number; sim: number }[][]> {
  const n = all.length;
  const dim = all[0].embedding.length;
  const bpr = all[0].code.length;
  const codes = new Uint8Array(n * bpr);
  all.forEach((e, i) => codes.set(e.code, i * bpr));
  const k = Math.min(n, NEIGHBOUR_CANDIDATES + 1);
  const { ids } = await engine.hammingTopK(codes, codes, { dim, k });
  return all.map((e, i) => {
    const list: { row: number; sim: number }[] = [];
    for (let j = 0; j < k; j++) {
      const r = ids[i * k + j];
      if (r !== i && r >= 0) list.push({ row: r, sim: dot(e.embedding, all[r].embedding) });
    }
    return list.sort((a, b) => b.sim - a.sim);
  });
}

function byScore(all: Experience[], score: (e: Experience, i: number) => number): number[] {
  return all.map((_, i) => i).sort((a, b) => score(all[a], a) - score(all[b], b) || olderFirst(all[a], all[b]));
}

async function diversityOrder(all: Experience[], count: number, engine: Engine, eligible: boolean[]): Promise<number[]> {
  const nn = await neighbours(all, engine);
  const gone = new Array<boolean>(all.length).fill(false);
  const nearest = (i: number) => nn[i].find((c) => !gone[c.row])?.sim ?? -Infinity;
  const out: number[] = [];
  while (out.length < count) {
    let pick = -1;
    let best = -Infinity;
    for (let i = 0; i < all.length; i++) {
      if (gone[i] || !eligible[i]) continue;
      const s = nearest(i);
      if (pick < 0 || s > best || (s === best && (importance(all[i]) < importance(all[pick]) || olderFirst(all[i], all[pick]) < 0))) {
        pick = i;
        best = s;
      }
    }
    if (pick < 0) break;
    gone[pick] = true;
    out.push(pick);
  }
  return out;
}

function rank(values: number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const r = new Array<number>(values.length);
  order.forEach((i, pos) => (r[i] = values.length > 1 ? pos / (values.length - 1) : 0));
  return r;
}

/** Picks `count` experiences of `all` to evict under `policy`. */
export async function chooseEvictions(
  all: Experience[],
  count: number,
  policy: EvictionPolicy,
  engine: Engine,
  protect: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  if (count <= 0) return [];
  const pick = async (eligible: boolean[], c: number): Promise<number[]> => {
    if (c <= 0) return [];
    if (policy === 'diversity') return diversityOrder(all, c, engine, eligible);
    let order: number[];
    if (policy === 'importance') order = byScore(all, importance);
    else if (policy === 'temporal') order = byScore(all, recency);
    else {
      const nn = await neighbours(all, engine);
      const imp = rank(all.map(importance));
      const rec = rank(all.map(recency));
      const uniq = rank(nn.map((l) => -(l[0]?.sim ?? -1)));
      order = byScore(all, (_, i) => 0.5 * imp[i] + 0.25 * rec[i] + 0.25 * uniq[i]);
    }
    return order.filter((i) => eligible[i]).slice(0, c);
  };
  const first = await pick(
    all.map((e) => !protect.has(e.id)),
    count,
  );
  const rest = await pick(
    all.map((e) => protect.has(e.id)),
    count - first.length,
  );
  return [...first, ...rest].map((i) => all[i].id);
}
