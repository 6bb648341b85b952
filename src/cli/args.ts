/** Flag parsing shared by the dso commands. */
import { DsoError } from '../core/errors.js';

export const integer = (v: string | undefined, name: string, fallback?: number, min = 1): number => {
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new DsoError('INVALID_ARGUMENT', `--${name} is required`);
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new DsoError('INVALID_ARGUMENT', `--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
};

export function required(v: string | undefined, name: string, usage: string): string {
  if (v === undefined || v === '') throw new DsoError('INVALID_ARGUMENT', `--${name} is required\nusage: ${usage}`);
  return v;
}
