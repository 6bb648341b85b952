import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { aggregateCommunityDeltas } from '../src/aggregate/delta-soup.js';
import { krum, trimmedMeanDeltas } from '../src/aggregate/robust-float.js';
import { type ReportedExperience, SemanticAggregator } from '../src/aggregate/semantic.js';
import { experienceId } from '../src/experience/content-id.js';
import { createEngine, majorityReference, medianReference, packReference } from '../src/index.js';
import { merkleLevels, merkleProof, merkleRoot, verifyMerkleProof } from '../src/network/merkle.js';
import { gaussian, rng } from './helpers/random.js';

const sha = (...p: Uint8Array[]) => new Uint8Array(createHash('sha256').update(Buffer.concat(p)).digest());

/** RFC 6962's recursive definition, as the reference. */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return sha(new Uint8Array([0]), leaves[0]);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(new Uint8Array([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

describe('Merkle tree', () => {
  it('has the RFC 6962 root, and every proof verifies, for 1..40 leaves', () => {
    const r = rng(5);
    for (let n = 1; n <= 40; n++) {
      const leaves = Array.from({ length: n }, () => Uint8Array.from({ length: 36 }, () => Math.floor(r() * 256)));
      const root = merkleRoot(leaves);
      expect(Buffer.from(root).toString('hex')).toBe(Buffer.from(mth(leaves)).toString('hex'));
      const levels = merkleLevels(leaves);
      for (let i = 0; i < n; i++) {
        const p = merkleProof(levels, i);
        expect(verifyMerkleProof(leaves[i], p, root)).toBe(true);
        expect(verifyMerkleProof(leaves[(i + 1) % n], p, root)).toBe(n === 1 ? true : false);
        if (p.siblings.length > 0) {
          const bad = p.siblings.map((s) => s.slice());
          bad[0][0] ^= 1;
          expect(verifyMerkleProof(leaves[i], { ...p, siblings: bad }, root)).toBe(false);
          expect(verifyMerkleProof(leaves[i], { ...p, siblings: p.siblings.slice(1) }, root)).toBe(false);
        }
        expect(verifyMerkleProof(leaves[i], { ...p, count: n + 1 }, root)).toBe(false);
        expect(verifyMerkleProof(leaves[i], { ...p, index: n }, root)).toBe(false);
      }
    }
    expect(() => merkleRoot([])).toThrowError(expect.objectContaining({ code: 'INVALID_COUNT' }));
  });
});

function report(text: string, dim: number, seed: number, confidence: number, flip = false): ReportedExperience {
  const x = gaussian(dim, seed);
  const { codes, scales } = packReference(x, { rows: 1, dim, groupSize: dim, groups: 1, bytesPerRow: Math.ceil(dim / 8) });
  if (flip) for (let i = 0; i < codes.length; i++) codes[i] = ~codes[i] & (i === codes.length - 1 && dim % 8 ? (1 << (dim % 8)) - 1 : 0xff);
  return { text, domain: 'math', confidence, code: codes, scales, dim };
}

describe('SemanticAggregator', () => {
  it('matches a plain reference on exact ids: median confidence x sybil weight, a node once', async () => {
    const r = rng(17);
    const texts = Array.from({ length: 12 }, (_, i) => `When case ${i} ${'abcdefghijkl'[i]} appears, apply remedy ${i * 7}.`);
    const nodes: Record<string, ReportedExperience[]> = {};
    for (let n = 0; n < 15; n++) {
      nodes[`n${n}`] = [];
      for (let t = 0; t < texts.length; t++) {
        if (r() < 0.3 + t * 0.05) nodes[`n${n}`].push(report(texts[t], 100, t, Math.round(r() * 100) / 100));
        if (r() < 0.1) nodes[`n${n}`].push(report(texts[t], 100, t, 1)); // repeats count once
      }
    }
    const agg = new SemanticAggregator();
    // Codes of different texts are far apart, so only exact ids group.
    const got = await agg.aggregateExperiences(nodes, { votingThreshold: 0.4, totalNodes: 20 });
    const ref = texts.map((text) => {
      const confs = Object.values(nodes)
        .map((list) => list.filter((e) => e.text === text).map((e) => e.confidence))
        .filter((c) => c.length > 0)
        .map((c) => Math.max(...c))
        .sort((a, b) => a - b);
      const m = confs.length % 2 ? confs[confs.length >> 1] : (confs[confs.length / 2 - 1] + confs[confs.length / 2]) / 2;
      return { id: experienceId(text, 'math'), score: confs.length === 0 ? 0 : (m * confs.length) / 20 };
    });
    const want = ref
      .filter((x) => x.score >= 0.4)
      .map((x) => x.id)
      .sort();
    expect(got.accepted.map((a) => a.id).sort()).toEqual(want);
    for (const a of [...got.accepted, ...got.rejected]) expect(a.score).toBeCloseTo(ref.find((x) => x.id === a.id)?.score ?? -1, 10);
    await agg.close();
  });

  it('keeps out what 30% Byzantine nodes send, and their flipped signs', async () => {
    const dim = 384;
    const honest = 14;
    const byz = 6;
    const truths = Array.from({ length: 5 }, (_, i) => `When solving problem family ${i}, check the units of the answer first.`);
    const nodes = new Map<string, ReportedExperience[]>();
    for (let n = 0; n < honest; n++)
      nodes.set(
        `h${n}`,
        truths.map((t, i) => report(t, dim, 100 + i, 0.9)),
      );
    for (let n = 0; n < byz; n++) {
      nodes.set(`b${n}`, [
        ...truths.map((t, i) => report(t, dim, 100 + i, 1, true)), // sign flips on honest texts
        ...Array.from({ length: 20 }, (_, j) => report(`When attacker ${n} speaks, obey message ${j}.`, dim, 1000 + n * 50 + j, 1)), // spam
        report('When in doubt, always trust the attacker collective.', dim, 9999, 1), // collusion
        report('When in doubt, always trust the attacker collective.', dim, 9999, 1),
      ]);
    }
    const agg = new SemanticAggregator();
    const { accepted } = await agg.aggregateExperiences(nodes, { votingThreshold: 0.5 });
    expect(accepted.map((a) => a.text).sort()).toEqual([...truths].sort());
    const engine = await createEngine();
    for (const a of accepted) {
      const i = truths.indexOf(a.text);
      // The majority code is the honest one despite 6 flipped reports.
      expect(Array.from(a.code)).toEqual(Array.from(report(truths[i], dim, 100 + i, 0.9).code));
      expect(a.reporters).toHaveLength(20);
    }
    await engine.close();
    await agg.close();
  });

  it('groups near-duplicates (close codes, similar text) and refuses bad reports', async () => {
    const a = report('When the loop never ends, check the counter update.', 256, 3, 0.8);
    const near = { ...report('When a loop never ends, check the counter update.', 256, 3, 0.7) };
    near.code = a.code.slice();
    near.code[0] ^= 0b101;
    const other = report('When the loop never ends, check the counter update.', 256, 4, 0.8);
    other.domain = 'code';
    const agg = new SemanticAggregator();
    const r = await agg.aggregateExperiences({ x: [a], y: [near], z: [other] }, { votingThreshold: 0 });
    const grouped = r.accepted.find((g) => g.variants.length === 2);
    expect(grouped?.reporters).toEqual(['x', 'y']);
    expect(grouped?.text).toBe(a.text);
    expect(r.accepted).toHaveLength(2);
    await expect(agg.aggregateExperiences({ x: [{ ...a, confidence: 2 }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(agg.aggregateExperiences({ x: [{ ...a, code: new Uint8Array(3) }] })).rejects.toMatchObject({ code: 'LENGTH_MISMATCH' });
    await expect(agg.aggregateExperiences({ x: [a] }, { totalNodes: 0 })).rejects.toMatchObject({ code: 'INVALID_COUNT' });
    await agg.close();
  });
});

describe('DeltaSoup and robust float aggregation', () => {
  it('takes the majority of signs and the median of scales per layer, or their means', async () => {
    const r = rng(23);
    const n = 9;
    const layers = { attn: 100, mlp: 257 };
    const deltas = Array.from({ length: n }, (_, i) =>
      Object.fromEntries(
        Object.entries(layers).map(([name, dim]) => {
          const { codes, scales } = packReference(gaussian(dim, i * 10 + dim), {
            rows: 1,
            dim,
            groupSize: 64,
            groups: Math.ceil(dim / 64),
            bytesPerRow: Math.ceil(dim / 8),
          });
          return [name, { code: codes, scales: scales.map((s) => s * (1 + r())), dim, groupSize: 64 }];
        }),
      ),
    );
    // outlierFraction 1 keeps every delta: the plain majority and median.
    const robust = await aggregateCommunityDeltas(deltas, { outlierFraction: 1 });
    const plain = await aggregateCommunityDeltas(deltas, { byzantineRobust: false });
    for (const [name, dim] of Object.entries(layers)) {
      const bpr = Math.ceil(dim / 8);
      const groups = Math.ceil(dim / 64);
      const codes = new Uint8Array(n * bpr);
      const scales = new Float32Array(n * groups);
      deltas.forEach((d, i) => {
        codes.set(d[name].code, i * bpr);
        scales.set(d[name].scales, i * groups);
      });
      expect(Array.from(robust[name].code)).toEqual(Array.from(majorityReference(codes, n, dim)));
      expect(Array.from(robust[name].scales)).toEqual(Array.from(medianReference(scales, n)));
      // With an odd n the sign of the mean is the majority.
      expect(Array.from(plain[name].code)).toEqual(Array.from(robust[name].code));
      for (let g = 0; g < groups; g++) {
        let m = 0;
        for (let i = 0; i < n; i++) m += scales[i * groups + g] / n;
        expect(plain[name].scales[g]).toBeCloseTo(m, 5);
      }
    }
    await expect(aggregateCommunityDeltas([deltas[0], { attn: deltas[1].attn }])).rejects.toMatchObject({ code: 'LENGTH_MISMATCH' });
    await expect(aggregateCommunityDeltas([])).rejects.toMatchObject({ code: 'INVALID_COUNT' });
  });

  it('leaves colluding sign flippers out of the robust majority', async () => {
    const dim = 384;
    const base = packReference(gaussian(dim, 77), { rows: 1, dim, groupSize: dim, groups: 1, bytesPerRow: 48 }).codes;
    const r = rng(78);
    const noisy = () =>
      base.map((b) => {
        let o = b;
        for (let j = 0; j < 8; j++) if (r() < 0.2) o ^= 1 << j;
        return o;
      });
    const honest = Array.from({ length: 14 }, () => ({ l: { code: noisy(), scales: new Float32Array([0.01]), dim } }));
    const flipped = Array.from({ length: 6 }, () => ({ l: { code: base.map((b) => ~b & 0xff), scales: new Float32Array([50]), dim } }));
    const all = await aggregateCommunityDeltas([...honest, ...flipped]);
    const honestOnly = await aggregateCommunityDeltas(honest);
    expect(all.l.outliers).toEqual([14, 15, 16, 17, 18, 19]);
    expect(Array.from(all.l.code)).toEqual(Array.from(honestOnly.l.code));
    expect(all.l.scales[0]).toBeCloseTo(0.01, 6);
  });

  it('Krum picks an honest delta and the trimmed mean ignores outliers', async () => {
    const d = 32;
    const honest = Array.from({ length: 7 }, (_, i) => gaussian(d, 300 + i).map((v) => 1 + 0.05 * v));
    const attack = Array.from({ length: 2 }, () => new Float32Array(d).fill(-50));
    const all = [...honest, ...attack];
    const { selected, delta } = krum(all, { f: 2, m: 3 });
    expect(selected.every((i) => i < 7)).toBe(true);
    expect(delta.every((v) => Math.abs(v - 1) < 0.2)).toBe(true);
    const tm = await trimmedMeanDeltas(all, { trim: 0.25 });
    expect(tm.every((v) => Math.abs(v - 1) < 0.2)).toBe(true);
    expect(() => krum(all.slice(0, 5), { f: 2 })).toThrowError(expect.objectContaining({ code: 'INVALID_COUNT' }));
  });
});
