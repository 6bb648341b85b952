import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { ATTACKS, simulate } from '../src/simulate/simulation.js';
import { checkLegend, legendInside } from './helpers/chart-check.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-sim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dso simulate', () => {
  it.each(ATTACKS)(
    'rejects Byzantine nodes and accepts honest experiences under %s',
    async (attack) => {
      const r = await simulate({ nodes: 20, byzantine: 0.3, attack, rounds: 2, experiencesPerRound: 8 });
      for (const round of r.rounds) {
        expect(round.precision).toBeGreaterThanOrEqual(0.99);
        expect(round.recall).toBeGreaterThanOrEqual(0.95);
        expect(round.deltaAgreement).toBeGreaterThanOrEqual(0.99);
        expect(round.signAgreement).toBeGreaterThanOrEqual(0.99);
        expect(round.batchesRegistered).toBe(20);
        expect(round.bytesPerNode).toBeGreaterThan(0);
      }
    },
    120_000,
  );

  it('gives the same figures whether nodes are built on this thread or in the pool', async () => {
    const strip = (r: Awaited<ReturnType<typeof simulate>>) => r.rounds.map(({ seconds: _s, ...rest }) => rest);
    const inline = await simulate({
      nodes: 12,
      byzantine: 0.25,
      attack: 'collusion',
      rounds: 2,
      experiencesPerRound: 5,
      chain: false,
      workers: 0,
    });
    const pooled = await simulate({
      nodes: 12,
      byzantine: 0.25,
      attack: 'collusion',
      rounds: 2,
      experiencesPerRound: 5,
      chain: false,
      workers: 2,
    });
    expect(strip(pooled)).toEqual(strip(inline));
  }, 60_000);

  it('shows why the threshold matters: at 0.66 silent Byzantine nodes cost honest recall', async () => {
    const r = await simulate({
      nodes: 20,
      byzantine: 0.3,
      attack: 'spam',
      rounds: 1,
      experiencesPerRound: 8,
      votingThreshold: 0.66,
      chain: false,
    });
    expect(r.rounds[0].precision).toBe(1);
    expect(r.rounds[0].recall).toBeLessThan(0.95);
  }, 60_000);

  it('writes results and charts from the command line, and refuses bad flags', () => {
    const out = path.join(dir, 'out');
    const ok = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'simulate',
        '--nodes',
        '6,10',
        '--byzantine',
        '0,0.3',
        '--attack',
        'sybil',
        '--rounds',
        '1',
        '--no-chain',
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/sybil N=10 F=0\.3: .* precision 100\.0%/u);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { runs: unknown[] };
    expect(results.runs).toHaveLength(4);
    for (const f of ['sybil-n10-f0.3', 'sybil-n10-f0.3-bytes', 'sybil-vs-nodes', 'sybil-vs-byzantine']) {
      const svg = readFileSync(path.join(out, `${f}.svg`), 'utf8');
      expect(svg).toMatch(/^<svg/u);
      const legend = checkLegend(svg);
      expect(legendInside(legend), f).toBe(true);
      expect(new Set(legend.colors).size, f).toBe(legend.labels.length);
      expect(
        readFileSync(path.join(out, `${f}.png`))
          .subarray(1, 4)
          .toString(),
      ).toBe('PNG');
    }
    // The bytes chart puts the run beside FedAvg at several model sizes.
    const bytes = checkLegend(readFileSync(path.join(out, 'sybil-n10-f0.3-bytes.svg'), 'utf8'));
    expect(bytes.labels).toEqual([
      'DSO (records, manifest, announcement)',
      'FedAvg, 500M parameters',
      'FedAvg, 7B parameters',
      'FedAvg, 70B parameters',
    ]);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'simulate', '--attack', 'nuke'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^dso: option '--attack <list>' argument 'nuke' is invalid/u);
    expect(existsSync(path.join(out, 'results.json.tmp'))).toBe(false);
  }, 180_000);
});
