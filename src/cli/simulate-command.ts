/**
 * dso simulate --nodes 100[,1000] --byzantine 0.3[,0.1] --attack sign-flip|random|sybil|spam|collusion|all
 *              --rounds 10 [--out sim-results] [--voting-threshold 0.5] [--no-chain] [--model-params 5e8] [--seed 1]
 * Runs every combination, prints a line per run, writes results.json and SVG
 * charts (per round for each run; against N and against F when several are given).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { DsoError } from '../core/errors.js';
import { type Attack, ATTACKS, type RoundReport, simulate } from '../simulate/simulation.js';
import { lineChart } from '../simulate/svg-chart.js';
import { progress } from './progress.js';

function list(v: string | undefined, name: string, fallback: string, parse: (s: string) => number): number[] {
  return (v ?? fallback).split(',').map((s) => {
    const n = parse(s.trim());
    if (!Number.isFinite(n)) throw new DsoError('INVALID_ARGUMENT', `--${name}: '${s}' is not a number`);
    return n;
  });
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const mean = (rs: RoundReport[], k: keyof RoundReport) => rs.reduce((s, r) => s + r[k], 0) / rs.length;

export async function simulateCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string' },
      byzantine: { type: 'string' },
      attack: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
      'voting-threshold': { type: 'string' },
      'no-chain': { type: 'boolean' },
      'model-params': { type: 'string' },
      seed: { type: 'string' },
      'experiences-per-round': { type: 'string' },
    },
  });
  const nodes = list(values.nodes, 'nodes', '100', Number);
  const fractions = list(values.byzantine, 'byzantine', '0.3', Number);
  const attacks = (values.attack ?? 'sign-flip') === 'all' ? [...ATTACKS] : (values.attack ?? 'sign-flip').split(',');
  for (const a of attacks)
    if (!ATTACKS.includes(a as Attack)) throw new DsoError('INVALID_ARGUMENT', `--attack: '${a}' is not one of ${ATTACKS.join(', ')}, all`);
  const rounds = Number(values.rounds ?? 10);
  const out = values.out ?? 'sim-results';
  mkdirSync(out, { recursive: true });
  const runs: { nodes: number; byzantine: number; attack: string; seconds: number; rounds: RoundReport[] }[] = [];
  for (const attack of attacks) {
    for (const n of nodes) {
      for (const f of fractions) {
        const bar = progress(`${attack} N=${n} F=${f}`, n * rounds);
        const r = await simulate({
          nodes: n,
          byzantine: f,
          attack: attack as Attack,
          rounds,
          chain: values['no-chain'] !== true,
          votingThreshold: values['voting-threshold'] === undefined ? undefined : Number(values['voting-threshold']),
          modelParams: values['model-params'] === undefined ? undefined : Number(values['model-params']),
          seed: values.seed === undefined ? undefined : Number(values.seed),
          experiencesPerRound: values['experiences-per-round'] === undefined ? undefined : Number(values['experiences-per-round']),
          onProgress: (d) => bar.tick(d),
        });
        bar.end();
        runs.push({ nodes: n, byzantine: f, attack, seconds: r.totalSeconds, rounds: r.rounds });
        const rs = r.rounds;
        const ratio = mean(rs, 'fedAvgBytesPerNode') / mean(rs, 'bytesPerNode');
        console.log(
          `${attack} N=${n} F=${f}: ${r.totalSeconds.toFixed(1)} s; precision ${(100 * Math.min(...rs.map((x) => x.precision))).toFixed(1)}% (worst round), ` +
            `recall ${(100 * mean(rs, 'recall')).toFixed(1)}%, sign agreement ${(100 * mean(rs, 'signAgreement')).toFixed(2)}%, delta agreement ${(100 * mean(rs, 'deltaAgreement')).toFixed(2)}%, ` +
            `${mean(rs, 'bytesPerNode').toFixed(0)} B per node per round vs FedAvg ${mean(rs, 'fedAvgBytesPerNode').toExponential(2)} B (${ratio.toExponential(2)}x less)`,
        );
        const tag = `${attack}-n${n}-f${f}`;
        writeAtomic(
          path.join(out, `${tag}.svg`),
          lineChart({
            title: `${attack}, ${n} nodes, ${f * 100}% Byzantine`,
            xLabel: 'round',
            yLabel: 'fraction',
            series: (['precision', 'recall', 'signAgreement', 'deltaAgreement'] as const).map((k) => ({
              name: k,
              points: rs.map((x) => [x.round, x[k]] as [number, number]),
            })),
          }),
        );
      }
    }
  }
  for (const attack of attacks) {
    const of = runs.filter((r) => r.attack === attack);
    const chart = (key: 'nodes' | 'byzantine', label: string, logX: boolean) => {
      const other = key === 'nodes' ? 'byzantine' : 'nodes';
      const groups = [...new Set(of.map((r) => r[other]))];
      return lineChart({
        title: `${attack}: against ${label}`,
        xLabel: label,
        yLabel: 'fraction (mean over rounds)',
        logX,
        series: groups.flatMap((g) =>
          (['precision', 'recall', 'deltaAgreement'] as const).map((k) => ({
            name: `${k} (${other === 'nodes' ? 'N' : 'F'}=${g})`,
            points: of.filter((r) => r[other] === g).map((r) => [r[key], mean(r.rounds, k)] as [number, number]),
          })),
        ),
      });
    };
    if (nodes.length > 1) writeAtomic(path.join(out, `${attack}-vs-nodes.svg`), chart('nodes', 'nodes (N)', true));
    if (fractions.length > 1)
      writeAtomic(path.join(out, `${attack}-vs-byzantine.svg`), chart('byzantine', 'Byzantine fraction (F)', false));
  }
  writeAtomic(path.join(out, 'results.json'), `${JSON.stringify({ runs }, null, 2)}\n`);
  console.log(`written: ${path.join(out, 'results.json')} and charts in ${out}/`);
}
