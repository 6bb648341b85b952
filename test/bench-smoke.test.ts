import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { addonAvailable, loadAddon } from '../src/simd/addon.js';
import { gpuUnavailable } from './helpers/backends.js';

/** The parts of the report bench/run.ts writes that are checked here. */
interface BenchReport {
  machine: { streamReadGBs: number };
  rows: Array<{ workload: string; impl: string; size: string; throughput: number; note?: string; limit?: string }>;
}

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
      const report = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as BenchReport;
      expect(report.machine.streamReadGBs).toBeGreaterThan(0);
      const tiers = loadAddon().cpuInfo().available;
      for (const isa of tiers) {
        const row = report.rows.find((x) => x.workload === 'W3 median' && x.impl === `dso native ${isa}`);
        expect(row?.throughput, isa).toBeGreaterThan(0);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  // The GPU rows on whatever adapter exists (lavapipe in CI): engine calls
  // checked against native, and the kernels timed on resident data.
  it.skipIf(gpuUnavailable !== undefined)('runs the GPU rows and times the kernels against the WGSL read limit', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'dso-bench-'));
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--gpu', '--only', 'GPU', '--out', out], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const [file] = readdirSync(out);
      const { rows } = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as BenchReport;
      const kernel = (w: string) => rows.find((x) => x.workload === w && x.impl.startsWith('dso webgpu kernel'));
      for (const w of ['GPU limit', 'GPU copy', 'W2 single', 'W2 batch', 'W3 median']) expect(kernel(w)?.throughput, w).toBeGreaterThan(0);
      expect(kernel('GPU limit')?.note).toContain('the limit');
      for (const w of ['W2 single', 'W3 median']) expect(kernel(w)?.limit, w).toMatch(/^WGSL read/);
      // Transfers: the old path and the new one side by side, the data checked.
      for (const w of ['GPU upload', 'GPU readback']) {
        const notes = rows.filter((x) => x.workload === w).map((x) => x.note ?? '');
        expect(notes.some((n) => n.startsWith('before:')) && notes.some((n) => n.startsWith('after:')), w).toBe(true);
      }
      expect(rows.find((x) => x.workload === 'GPU readback' && x.note?.startsWith('after:'))?.note).toContain('identical');
      const engineBatches = rows.filter((x) => x.workload === 'W2 batch' && x.impl.startsWith('dso webgpu ('));
      expect(engineBatches.length).toBe(2);
      for (const b of engineBatches) expect(b.note).toContain('identical to native');
      const single = rows.find((x) => x.workload === 'W2 single' && x.impl.startsWith('dso webgpu ('));
      expect(single?.note).toContain('per call: 1 submission, 1 pass');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  // The registry's gas table (README): every operation at each size, and flat in the member count.
  it('runs GAS at quick sizes: every operation, the same gas at 10 and 100 members', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'dso-bench-'));
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'GAS', '--out', out], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('| operation | 10 members | 100 members |');
      const [file] = readdirSync(out);
      const { rows } = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as BenchReport;
      const gas = rows.filter((x) => x.workload === 'GAS registry');
      for (const op of ['submitBatch', 'vote (batch stays open)', 'vote that accepts the batch', 'finalizeProposal removing a member']) {
        const [ten, hundred] = ['10 members', '100 members'].map((size) => gas.find((x) => x.impl === op && x.size === size)?.throughput);
        expect(ten, op).toBeGreaterThan(20_000);
        expect(Math.abs((hundred ?? 0) - (ten ?? 0)), op).toBeLessThan(100);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
