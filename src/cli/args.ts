/** Flag parsing shared by the dso commands. */
import { DsoError } from '../errors.js';
import type { Embedder } from '../experience/embedders/embedder.js';
import { HashingEmbedder } from '../experience/embedders/hashing.js';
import { TransformersEmbedder } from '../experience/embedders/transformers.js';

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

/** --embedder hashing (default) | a local transformers model directory. */
export async function embedderFrom(v: string | undefined): Promise<Embedder> {
  if (v === undefined || v === 'hashing') return new HashingEmbedder();
  return TransformersEmbedder.load({ modelPath: v });
}
