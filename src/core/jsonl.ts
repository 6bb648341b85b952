/** JSON Lines input (datasets, experience files): one object per non-blank line, errors naming file and line, size bounded. */
import { readFileSync, statSync } from 'node:fs';

import { DsoError } from './errors.js';

/** Files larger than this are refused before anything is read (default of readJsonLines). */
export const MAX_JSONL_BYTES = 512 << 20;

export interface JsonLine {
  /** "file:line", for error messages. */
  where: string;
  value: Record<string, unknown>;
}

export function readJsonLines(file: string, maxBytes = MAX_JSONL_BYTES): JsonLine[] {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > maxBytes) throw new DsoError('TOO_LARGE', `${file} holds ${size} bytes, more than the ${maxBytes} allowed`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof DsoError) throw e;
    throw new DsoError('IO_ERROR', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  const out: JsonLine[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new DsoError('INVALID_ARGUMENT', `${where}: not a JSON object`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new DsoError('INVALID_ARGUMENT', `${where}: not a JSON object`);
    out.push({ where, value: value as Record<string, unknown> });
  });
  return out;
}
