/** The README's error table lists every DsoError code the source can raise, and no code that does not exist. */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

function sourceCodes(): string[] {
  const src = readFileSync('src/core/errors.ts', 'utf8');
  const union = /export type DsoErrorCode =([^;]+);/u.exec(src)?.[1] ?? '';
  return [...union.matchAll(/'([A-Z_]+)'/gu)].map((m) => m[1]).sort();
}

function readmeCodes(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const section = /### Errors\n([\s\S]*?)\n## /u.exec(readme)?.[1] ?? '';
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  return [...new Set(rows.flatMap((r) => [...r.split('|')[1].matchAll(/`([A-Z_]+)`/gu)].map((m) => m[1])))].sort();
}

describe('README error table', () => {
  it('names exactly the codes of DsoErrorCode', () => {
    expect(sourceCodes().length).toBeGreaterThan(30);
    expect(readmeCodes()).toEqual(sourceCodes());
  });
});
