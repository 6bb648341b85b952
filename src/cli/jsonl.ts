/** JSON Lines input of the dso commands: one object per non-blank line, errors naming file and line. */
import { readFileSync } from 'node:fs';

import { DsoError } from '../core/errors.js';

export interface JsonLine {
  /** "file:line", for error messages. */
  where: string;
  value: Record<string, unknown>;
}

export function readJsonLines(file: string): JsonLine[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
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
