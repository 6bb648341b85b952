/**
 * dso simulate: every combination of node counts, Byzantine fractions and
 * attacks through the real protocol in one process; a line per run,
 * results.json and charts in the output directory.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { type Command, InvalidArgumentError, Option } from 'commander';

import { lineChart } from '../../charts/charts.js';
import { writeChart } from '../../charts/render.js';
import { type Attack, ATTACKS, type RoundReport, simulate } from '../../simulate/simulation.js';
import { int, list, num } from '../options.js';
import { progress } from '../progress.js';

interface SimulateFlags {
  nodes: number[];
  byzantine: number[];
  attack: string[];
  rounds: number;
  out: string;
  votingThreshold: number;
  chain: boolean;
  modelParams: number;
  seed: number;
  experiencesPerRound: number;
}

interface Run {
  nodes: number;
  byzantine: number;
  attack: string;
  seconds: number;
  rounds: RoundReport[];
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const mean = (rs: RoundReport[], k: keyof RoundReport) => rs.reduce((s, r) => s + r[k], 0) / rs.length;

function attacksOf(raw: string[]): Attack[] {
  return raw.includes('all') ? [...ATTACKS] : (raw as Attack[]);
}

function summaryLine(run: Run): string {
  const rs = run.rounds;
  const ratio = mean(rs, 'fedAvgBytesPerNode') / mean(rs, 'bytesPerNode');
  return (
    `${run.attack} N=${run.nodes} F=${run.byzantine}: ${run.seconds.toFixed(1)} s; ` +
    `precision ${(100 * Math.min(...rs.map((x) => x.precision))).toFixed(1)}% (worst round), recall ${(100 * mean(rs, 'recall')).toFixed(1)}%, ` +
    `sign agreement ${(100 * mean(rs, 'signAgreement')).toFixed(2)}%, delta agreement ${(100 * mean(rs, 'deltaAgreement')).toFixed(2)}%, ` +
    `${mean(rs, 'bytesPerNode').toFixed(0)} B per node per round vs FedAvg ${mean(rs, 'fedAvgBytesPerNode').toExponential(2)} B (${ratio.toExponential(2)}x less)`
  );
}

function ran(o: SimulateFlags, run: Pick<Run, 'nodes' | 'byzantine' | 'attack'>): string {
  return (
    `dso simulate: ${run.nodes} nodes, ${run.byzantine * 100}% Byzantine (${run.attack}), ${o.rounds} rounds, ` +
    `${o.experiencesPerRound} true experiences a round, voting threshold ${o.votingThreshold}, seed ${o.seed}${o.chain ? '' : ', no chain'}`
  );
}

function runChart(o: SimulateFlags, run: Run) {
  return lineChart({
    title: `What the honest nodes accept: ${run.attack}, ${run.nodes} nodes, ${run.byzantine * 100}% Byzantine`,
    caption: ran(o, run),
    xLabel: 'round',
    yLabel: 'fraction',
    series: (['precision', 'recall', 'signAgreement', 'deltaAgreement'] as const).map((k) => ({
      name: k,
      points: run.rounds.map((x) => [x.round, x[k]] as [number, number]),
    })),
  });
}

/** FedAvg's bytes per node per round: the whole float32 model, at these sizes and at --model-params. */
const FEDAVG_PARAMS = [0.5e9, 7e9, 70e9];

function bytesChart(o: SimulateFlags, run: Run) {
  const rounds = run.rounds.map((x) => x.round);
  const sizes = [...new Set([...FEDAVG_PARAMS, o.modelParams])].sort((a, b) => a - b);
  return lineChart({
    title: `Bytes a node sends per round: DSO against FedAvg (${run.attack}, ${run.nodes} nodes)`,
    caption: `${ran(o, run)}; FedAvg sends the whole float32 model (4 bytes a parameter) every round`,
    xLabel: 'round',
    yLabel: 'bytes per node per round (log scale)',
    logY: true,
    series: [
      { name: 'DSO (records, manifest, announcement)', points: run.rounds.map((x) => [x.round, x.bytesPerNode] as [number, number]) },
      ...sizes.map((p) => ({
        name: `FedAvg, ${p >= 1e9 ? `${+(p / 1e9).toPrecision(3)}B` : `${+(p / 1e6).toPrecision(3)}M`} parameters`,
        points: rounds.map((r) => [r, 4 * p] as [number, number]),
      })),
    ],
  });
}

/** Mean precision, recall and delta agreement against N (one line per F) or against F (one line per N). */
function sweepChart(o: SimulateFlags, attack: string, runs: Run[], key: 'nodes' | 'byzantine') {
  const other = key === 'nodes' ? 'byzantine' : 'nodes';
  const label = key === 'nodes' ? 'nodes (N)' : 'Byzantine fraction (F)';
  const groups = [...new Set(runs.map((r) => r[other]))];
  return lineChart({
    title: `${attack}: what the honest nodes accept, against ${label}`,
    caption: `dso simulate: N = ${o.nodes.join(', ')}; F = ${o.byzantine.join(', ')}; ${o.rounds} rounds, seed ${o.seed}; means over rounds`,
    xLabel: label,
    yLabel: 'fraction (mean over rounds)',
    logX: key === 'nodes',
    series: groups.flatMap((g) =>
      (['precision', 'recall', 'deltaAgreement'] as const).map((k) => ({
        name: `${k} (${other === 'nodes' ? 'N' : 'F'}=${g})`,
        points: runs.filter((r) => r[other] === g).map((r) => [r[key], mean(r.rounds, k)] as [number, number]),
      })),
    ),
  });
}

async function runOne(o: SimulateFlags, attack: Attack, nodes: number, byzantine: number): Promise<Run> {
  const bar = progress(`${attack} N=${nodes} F=${byzantine}`, nodes * o.rounds);
  const r = await simulate({
    nodes,
    byzantine,
    attack,
    rounds: o.rounds,
    chain: o.chain,
    votingThreshold: o.votingThreshold,
    modelParams: o.modelParams,
    seed: o.seed,
    experiencesPerRound: o.experiencesPerRound,
    onProgress: (d) => bar.tick(d),
  });
  bar.end();
  return { nodes, byzantine, attack, seconds: r.totalSeconds, rounds: r.rounds };
}

async function simulateAll(o: SimulateFlags): Promise<void> {
  const attacks = attacksOf(o.attack);
  mkdirSync(o.out, { recursive: true });
  const runs: Run[] = [];
  for (const attack of attacks) {
    for (const n of o.nodes) {
      for (const f of o.byzantine) {
        const run = await runOne(o, attack, n, f);
        runs.push(run);
        console.log(summaryLine(run));
        await writeChart(path.join(o.out, `${attack}-n${n}-f${f}`), runChart(o, run));
        await writeChart(path.join(o.out, `${attack}-n${n}-f${f}-bytes`), bytesChart(o, run));
      }
    }
  }
  for (const attack of attacks) {
    const of = runs.filter((r) => r.attack === attack);
    if (o.nodes.length > 1) await writeChart(path.join(o.out, `${attack}-vs-nodes`), sweepChart(o, attack, of, 'nodes'));
    if (o.byzantine.length > 1) await writeChart(path.join(o.out, `${attack}-vs-byzantine`), sweepChart(o, attack, of, 'byzantine'));
  }
  writeAtomic(path.join(o.out, 'results.json'), `${JSON.stringify({ runs }, null, 2)}\n`);
  console.log(`written: ${path.join(o.out, 'results.json')} and charts (SVG and PNG) in ${o.out}/`);
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('many nodes through the real protocol in one process, honest and Byzantine: precision, recall, agreement, bytes')
    .addOption(new Option('--nodes <list>', 'node counts, comma-separated').argParser(list(int(3, 100_000))).default([100], '100'))
    .addOption(
      new Option('--byzantine <list>', 'Byzantine fractions in [0, 0.5), comma-separated')
        .argParser(list(num(0, 0.49)))
        .default([0.3], '0.3'),
    )
    .addOption(
      new Option('--attack <list>', `comma-separated: ${ATTACKS.join(', ')}, or all`)
        .argParser(
          list((a) => {
            if (a !== 'all' && !ATTACKS.includes(a as Attack))
              throw new InvalidArgumentError(`'${a}' is not one of ${ATTACKS.join(', ')}, all`);
            return a;
          }),
        )
        .default(['sign-flip'], 'sign-flip'),
    )
    .addOption(new Option('--rounds <n>', 'rounds per run').argParser(int(1, 10_000)).default(10))
    .option('--out <dir>', 'results.json and the charts go here', 'sim-results')
    .addOption(new Option('--voting-threshold <t>', 'support an experience needs to be accepted').argParser(num(0, 1)).default(0.5))
    .option('--no-chain', 'skip the in-process registry (faster; no on-chain registration)')
    .addOption(
      new Option('--model-params <n>', 'parameters of the model FedAvg would exchange (float32)')
        .argParser(num(1, 1e13))
        .default(5e8, '5e8'),
    )
    .addOption(new Option('--seed <n>', 'seed of the whole simulation').argParser(int(0, 2 ** 31 - 1)).default(1))
    .addOption(new Option('--experiences-per-round <n>', 'true experiences per round').argParser(int(1, 10_000)).default(20))
    .addHelpText('after', '\nExample:\n  $ dso simulate --nodes 100,1000 --byzantine 0,0.1,0.3 --attack all --rounds 10 --out sim-results')
    .action((o: SimulateFlags) => simulateAll(o));
}
