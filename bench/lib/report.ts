/** Result rows, the printed table and the JSON file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { Machine } from './machine.js';

export interface Row {
  workload: string;
  impl: string;
  /** The problem size actually run (peers too slow for the full size run a stated subset). */
  size: string;
  seconds: number;
  rme?: number;
  throughput: number;
  unit: string;
  /** Fraction of the machine's limit (stream bandwidth or XOR+popcount rate). */
  ofLimit?: number;
  limit?: string;
  note?: string;
}

function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return '-';
  if (x >= 1000) return x.toFixed(0);
  return x.toPrecision(digits);
}

export function printTable(rows: Row[]): void {
  const header = ['workload', 'implementation', 'size', 'time', 'throughput', 'of limit', 'note'];
  const body = rows.map((r) => [
    r.workload,
    r.impl,
    r.size,
    r.seconds >= 1 ? `${fmt(r.seconds)} s` : `${fmt(r.seconds * 1000)} ms`,
    `${fmt(r.throughput)} ${r.unit}`,
    r.ofLimit === undefined ? '' : `${(r.ofLimit * 100).toFixed(0)}% ${r.limit ?? ''}`,
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  let last = '';
  for (const b of body) {
    if (last && b[0] !== last) console.log('');
    last = b[0];
    console.log(line(b));
  }
}

export function writeJson(dir: string, machine: Machine, rows: Row[], extra: object): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, rows, ...extra }, null, 2));
  return file;
}
