/** What the figures were measured on, and the machine's limits measured in the same run. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

import { loadAddon, type Tier } from '../../src/simd/addon.js';
import { measure } from './measure.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  tiers: Tier[];
  features: Record<string, boolean>;
  streamReadGBs: number;
  /** 64-bit XOR+popcount words per second, per tier (one core). */
  xorPopcountWordsPerSec: Record<string, number>;
}

function cpuModel(): string {
  try {
    const m = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    /* not Linux */
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export async function describeMachine(quick: boolean): Promise<Machine> {
  const addon = loadAddon();
  const cpu = addon.cpuInfo();
  // Well past the last-level cache of common servers, unless --quick.
  const buf = new Uint8Array(quick ? 64 << 20 : 1 << 30).fill(1);
  const t = await measure('stream', () => addon.streamRead(buf, { isa: cpu.best }));
  const xorPopcountWordsPerSec: Record<string, number> = {};
  const iterations = quick ? 1e6 : 2e7;
  for (const isa of cpu.available) {
    let words = 0;
    const tp = await measure(`xorpop ${isa}`, () => {
      words = addon.xorPopcount(iterations, { isa }).words;
    });
    xorPopcountWordsPerSec[isa] = words / tp.seconds;
    if (isa === 'avx512' && cpu.features.vpopcntdq) {
      const tn = await measure('xorpop avx512 bw', () => {
        words = addon.xorPopcount(iterations, { isa, vpopcntdq: false }).words;
      });
      xorPopcountWordsPerSec['avx512 (no vpopcntdq)'] = words / tn.seconds;
    }
  }
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    tiers: cpu.available,
    features: cpu.features,
    streamReadGBs: buf.length / t.seconds / 1e9,
    xorPopcountWordsPerSec,
  };
}
