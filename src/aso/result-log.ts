/** The optimizer's JSONL result log: one line per step or consolidation, appended and flushed as it happens. */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

import { DsoError } from '../core/errors.js';

export class ResultLog {
  private fd?: number;

  constructor(readonly file: string) {
    try {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      this.fd = openSync(file, 'a');
    } catch (e) {
      throw new DsoError('IO_ERROR', `cannot open result log ${file}: ${(e as Error).message}`, { cause: e });
    }
  }

  write(record: Record<string, unknown>): void {
    if (this.fd === undefined) return;
    // One write per line, so a reader never sees half a record from a live run.
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
