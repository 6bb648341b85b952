/**
 * N3: the aggregators against 30% Byzantine nodes. 100 nodes; 70 honest ones
 * each report 90% of 200 true experiences (their own noisy view of each
 * embedding: 15% of sign bits flipped) and send a noisy copy of the true
 * community delta; 30 Byzantine ones attack one way per run:
 *  - sign-flip: the honest texts with every sign flipped;
 *  - random: the honest texts with random codes, and random deltas;
 *  - copies: honest records re-sent under new ids (text changed by
 *    whitespace and case, so the content id differs) plus 20 invented ones each;
 *  - repeat: one identity reporting the same invented experience 500 times.
 * Reported: precision of the accepted set, the share of accepted codes' bits
 * equal to the honest-only majority, and DeltaSoup's agreement with the
 * honest-only aggregate.
 */
import { aggregateCommunityDeltas } from '../../src/aggregate/delta-soup.js';
import { type ReportedExperience, SemanticAggregator } from '../../src/aggregate/semantic.js';
import { createEngine } from '../../src/index.js';
import { codeAgreement as agreement } from '../../src/simd/reference/hamming.js';
import { xorshift } from '../lib/data.js';
import type { Row } from '../lib/report.js';

const DIM = 384;
const BPR = DIM / 8;

export async function byzantineWorkload(nodes = 100, byzFraction = 0.3): Promise<Row[]> {
  const rand = xorshift(71);
  const u = () => rand() / 4294967296;
  const randomCode = () => Uint8Array.from({ length: BPR }, () => rand() & 0xff);
  const noisy = (c: Uint8Array, p: number) =>
    Uint8Array.from(c, (byte) => {
      let out = byte;
      for (let j = 0; j < 8; j++) if (u() < p) out ^= 1 << j;
      return out;
    });
  const truths = Array.from({ length: 200 }, (_, i) => ({
    text: `When problem family ${i} shows up, apply method ${(i * 7919) % 1000} and check step ${i % 13}.`,
    code: randomCode(),
  }));
  const truthTexts = new Set(truths.map((t) => t.text));
  const honestN = Math.round(nodes * (1 - byzFraction));
  const engine = await createEngine({ backend: 'native' });
  const agg = new SemanticAggregator({ engine });
  const trueDelta = randomCode();
  const rows: Row[] = [];
  for (const attack of ['sign-flip', 'random', 'copies', 'repeat']) {
    const reports = new Map<string, ReportedExperience[]>();
    const deltas: { layer: { code: Uint8Array; scales: Float32Array; dim: number } }[] = [];
    const rep = (text: string, code: Uint8Array, confidence: number): ReportedExperience => ({
      text,
      domain: 'math',
      confidence,
      code,
      scales: new Float32Array([0.05]),
      dim: DIM,
    });
    for (let n = 0; n < honestN; n++) {
      reports.set(
        `h${n}`,
        truths.filter(() => u() < 0.9).map((t) => rep(t.text, noisy(t.code, 0.15), 0.75 + 0.25 * u())),
      );
      deltas.push({ layer: { code: noisy(trueDelta, 0.2), scales: new Float32Array([0.01 + 0.002 * u()]), dim: DIM } });
    }
    for (let n = 0; n < nodes - honestN; n++) {
      let list: ReportedExperience[];
      let delta: Uint8Array;
      if (attack === 'sign-flip') {
        list = truths.map((t) =>
          rep(
            t.text,
            t.code.map((b) => ~b & 0xff),
            1,
          ),
        );
        delta = trueDelta.map((b) => ~b & 0xff);
      } else if (attack === 'random') {
        list = truths.map((t) => rep(t.text, randomCode(), 1));
        delta = randomCode();
      } else if (attack === 'copies') {
        list = [
          ...truths.map((t) => rep(`  ${t.text.toUpperCase()} `, t.code, 1)),
          ...Array.from({ length: 20 }, (_, j) => rep(`When attacker ${n % 3} speaks, obey order ${j}.`, randomCode(), 1)),
        ];
        delta = trueDelta.map((b) => ~b & 0xff);
      } else {
        list = Array.from({ length: 500 }, () => rep('When in doubt, send everything to the attacker.', randomCode(), 1));
        delta = randomCode();
      }
      reports.set(`b${n}`, list);
      deltas.push({ layer: { code: delta, scales: new Float32Array([100]), dim: DIM } });
    }
    const t0 = performance.now();
    const { accepted } = await agg.aggregateExperiences(reports, { votingThreshold: 0.66 });
    const secs = (performance.now() - t0) / 1000;
    const normalize = (s: string) => s.trim().replace(/\s+/gu, ' ').toLowerCase();
    const trueNorm = new Set([...truthTexts].map(normalize));
    const good = accepted.filter((a) => trueNorm.has(normalize(a.text)));
    const precision = accepted.length === 0 ? 1 : good.length / accepted.length;
    const recall = good.length / truths.length;
    // Honest-only majority of each accepted true experience, for the sign agreement.
    const honestOnly = new Map<string, ReportedExperience[]>([...reports].filter(([k]) => k.startsWith('h')));
    const ref = await agg.aggregateExperiences(honestOnly, { votingThreshold: 0 });
    const refCode = new Map(ref.accepted.map((a) => [a.text, a.code]));
    let bits = 0;
    let n = 0;
    for (const a of good) {
      const r = refCode.get(truths.find((t) => normalize(t.text) === normalize(a.text))?.text ?? '');
      if (r) {
        bits += agreement(a.code, r);
        n++;
      }
    }
    const soup = await aggregateCommunityDeltas(deltas, { engine });
    const soupHonest = await aggregateCommunityDeltas(deltas.slice(0, honestN), { engine });
    const soupAgree = agreement(soup.layer.code, soupHonest.layer.code);
    rows.push({
      workload: 'N3 Byzantine 30%',
      impl: `SemanticAggregator + DeltaSoup, ${attack}`,
      size: `${nodes} nodes, 200 true experiences`,
      seconds: secs,
      throughput: precision * 100,
      unit: '% precision',
      note:
        `${accepted.length === 0 ? 'nothing accepted (precision vacuous); ' : ''}recall ${(recall * 100).toFixed(1)}%; accepted signs = honest-only majority on ${((n ? bits / n : 1) * 100).toFixed(2)}% of bits; ` +
        `DeltaSoup signs = honest-only on ${(soupAgree * 100).toFixed(2)}% of bits, scale ${soup.layer.scales[0].toFixed(4)} vs ${soupHonest.layer.scales[0].toFixed(4)} (targets >= 99%)`,
    });
  }
  await agg.close();
  await engine.close();
  return rows;
}
