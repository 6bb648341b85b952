/**
 * Value parsers and options shared by the dso commands. A bad value is
 * refused by commander before the command runs: one line naming the flag,
 * the usage, exit 2.
 */
import { InvalidArgumentError, Option } from 'commander';

import type { BackendChoice } from '../engine/types.js';

/** An integer in [min, max]. */
export function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}]`);
    }
    return n;
  };
}

/** A finite number in [min, max]. */
export function num(min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a number in [${min}, ${max}]`);
    return n;
  };
}

/** A comma-separated list, each item parsed by `item`. */
export function list<T>(item: (raw: string) => T) {
  return (raw: string): T[] => {
    const parts = raw.split(',').map((s) => s.trim());
    if (parts.some((p) => p === '')) throw new InvalidArgumentError('expected a comma-separated list without empty items');
    return parts.map(item);
  };
}

export const BACKENDS: readonly BackendChoice[] = ['auto', 'native', 'webgpu', 'js'];

/** --backend, also from DSO_BACKEND. */
export function backendOption(): Option {
  return new Option('--backend <name>', 'compute backend (auto opens WebGPU only for work large enough to matter, on a hardware adapter)')
    .choices(BACKENDS)
    .env('DSO_BACKEND')
    .default('auto');
}

export function verboseOption(): Option {
  return new Option('--verbose', 'print the engine in use (backend, kernel tier, threads, GPU adapter) on stderr');
}
