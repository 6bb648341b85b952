import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { addonAvailable, loadAddon } from '../src/simd/addon.js';

// Keeps `npm run bench` working: a quick run of the aggregation workload must
// write a JSON report with a row per native tier and the machine's limits.
describe.skipIf(!addonAvailable())('bench harness', () => {
  it('runs W3 at quick sizes and writes its report', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'dso-bench-'));
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'W3', '--out', out], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const [file] = readdirSync(out);
      const report = JSON.parse(readFileSync(path.join(out, file), 'utf8'));
      expect(report.machine.streamReadGBs).toBeGreaterThan(0);
      const tiers = loadAddon().cpuInfo().available;
      for (const isa of tiers) {
        const row = report.rows.find((x: { workload: string; impl: string }) => x.workload === 'W3 median' && x.impl === `dso native ${isa}`);
        expect(row?.throughput, isa).toBeGreaterThan(0);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
