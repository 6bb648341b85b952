/**
 * Refuses batch announcements a node has already seen or that are stale: a
 * valid signature on an old batch is still valid, so signatures alone do not
 * stop replays. Per signing node, timestamps must increase; a root is
 * accepted once; announcements older than maxAgeMs or further than maxSkewMs
 * in the future are refused.
 *
 * What it has accepted is kept in SQLite (`file`; in memory when absent), so
 * a restarted node still refuses what it accepted before. Roots older than
 * maxAgeMs are forgotten, since the age rule refuses them anyway: the file
 * holds one row per batch of the last maxAgeMs and one per signing node.
 */
import Database from 'better-sqlite3';

import { DsoError } from '../core/errors.js';
import type { BatchAnnouncement } from './batch.js';

export interface ReplayGuardOptions {
  /** SQLite file that keeps what was accepted across restarts (created if missing); absent: memory only. */
  file?: string;
  maxAgeMs?: number;
  maxSkewMs?: number;
  now?: () => number;
}

export class ReplayGuard {
  private readonly db: Database.Database;
  private readonly maxAgeMs: number;
  private readonly maxSkewMs: number;
  private readonly now: () => number;
  private readonly stmts: {
    root: Database.Statement;
    last: Database.Statement;
    addRoot: Database.Statement;
    setLast: Database.Statement;
    prune: Database.Statement;
  };

  constructor(opts: ReplayGuardOptions = {}) {
    this.maxAgeMs = opts.maxAgeMs ?? 7 * 24 * 3600 * 1000;
    this.maxSkewMs = opts.maxSkewMs ?? 5 * 60 * 1000;
    this.now = opts.now ?? Date.now;
    const file = opts.file ?? ':memory:';
    let db: Database.Database | undefined;
    try {
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.exec(`
        CREATE TABLE IF NOT EXISTS roots (root TEXT PRIMARY KEY, timestamp INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS roots_by_time ON roots (timestamp);
        CREATE TABLE IF NOT EXISTS last (node TEXT PRIMARY KEY, timestamp INTEGER NOT NULL);
      `);
      this.stmts = {
        root: db.prepare('SELECT 1 FROM roots WHERE root = ?').pluck(),
        last: db.prepare('SELECT timestamp FROM last WHERE node = ?').pluck(),
        addRoot: db.prepare('INSERT INTO roots (root, timestamp) VALUES (?, ?)'),
        setLast: db.prepare(
          'INSERT INTO last (node, timestamp) VALUES (?, ?) ON CONFLICT (node) DO UPDATE SET timestamp = MAX(timestamp, excluded.timestamp)',
        ),
        prune: db.prepare('DELETE FROM roots WHERE timestamp < ?'),
      };
    } catch (e) {
      db?.close();
      throw new DsoError('DATABASE_ERROR', `cannot open the replay guard's database ${file}: ${(e as Error).message}`, { cause: e });
    }
    this.db = db;
  }

  /** Throws REPLAYED_BATCH unless the announcement is new; records nothing. */
  check(a: BatchAnnouncement): void {
    const node = a.node.toLowerCase();
    const now = this.now();
    if (this.stmts.root.get(a.root.toLowerCase()) !== undefined)
      throw new DsoError('REPLAYED_BATCH', `batch ${a.root} was already accepted`);
    const last = this.stmts.last.get(node) as number | undefined;
    if (last !== undefined && a.timestamp <= last)
      throw new DsoError('REPLAYED_BATCH', `batch from ${a.node} at ${a.timestamp} is not newer than its last (${last})`);
    if (a.timestamp < now - this.maxAgeMs) throw new DsoError('REPLAYED_BATCH', `batch from ${a.node} is older than ${this.maxAgeMs} ms`);
    if (a.timestamp > now + this.maxSkewMs)
      throw new DsoError('REPLAYED_BATCH', `batch from ${a.node} is dated ${a.timestamp - now} ms in the future`);
  }

  /** Records an announcement whose batch was verified and used; committed before it returns. */
  accept(a: BatchAnnouncement): void {
    try {
      // Checked and recorded in one write transaction: two processes on one file cannot both accept a root.
      this.db
        .transaction(() => {
          this.check(a);
          this.stmts.addRoot.run(a.root.toLowerCase(), a.timestamp);
          this.stmts.setLast.run(a.node.toLowerCase(), a.timestamp);
          this.stmts.prune.run(this.now() - this.maxAgeMs);
        })
        .immediate();
    } catch (e) {
      if (e instanceof DsoError) throw e;
      throw new DsoError('DATABASE_ERROR', `the replay guard could not record batch ${a.root}: ${(e as Error).message}`, { cause: e });
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
