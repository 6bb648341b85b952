/** Compiles and runs bench/peers/plain_loop.c (cc -O2 -mpopcnt -fopenmp) on the code files of a run. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const source = path.join(path.dirname(fileURLToPath(import.meta.url)), 'plain_loop.c');

export function runPlainLoop(base: string, queries: string, bytesPerRow: number, k: number, threads: number): number | { error: string } {
  const exe = path.join(mkdtempSync(path.join(os.tmpdir(), 'dso-plain-')), 'plain_loop');
  const flags = process.arch === 'x64' ? ['-mpopcnt'] : [];
  const cc = spawnSync('cc', ['-O2', ...flags, '-fopenmp', source, '-o', exe], { encoding: 'utf8' });
  if (cc.status !== 0) return { error: `cc failed: ${cc.stderr || cc.error?.message}` };
  const r = spawnSync(exe, [base, queries, String(bytesPerRow), String(k), String(threads)], { encoding: 'utf8' });
  if (r.status !== 0) return { error: `plain_loop failed: ${r.stderr}` };
  return Number(r.stdout.split(' ')[0]);
}
