/**
 * SQLite persistence of experience libraries (better-sqlite3, WAL mode). One
 * file holds many libraries, each under its namespace. Every change the
 * library makes is one transaction, so a process killed at any point leaves
 * the file as of the last committed batch: never half a batch.
 *
 * Rows are keyed by (namespace, seq), the library's insertion counter, not by
 * id: ids are hashes, and a b-tree keyed by hashes takes its inserts all over
 * its pages, which doubled the cost of a row. The library keeps ids unique.
 */
import Database from 'better-sqlite3';

import { DsoError } from '../core/errors.js';
import type { Experience } from './experience.js';

const SCHEMA_VERSION = 1;

export interface LibraryMeta {
  dim: number;
  embedder: string;
  epoch: number;
}

/** A stored experience and its row number, which orders the library (insertion order). */
export interface StoredExperience {
  seq: number;
  experience: Experience;
}

export interface BatchWrite {
  /** Rows (seq) to delete. */
  remove: number[];
  /** Inserted or replaced (a near-duplicate folded into an existing experience is rewritten). */
  put: StoredExperience[];
  epoch?: number;
}

interface Row {
  seq: number;
  id: string;
  text: string;
  domain: string;
  confidence: number;
  epoch: number;
  usage_count: number;
  last_used_epoch: number;
  source: string;
  created_at: number;
  metadata: string;
  embedding: Buffer;
  code: Buffer;
  scale: number;
}

function asDbError(e: unknown, what: string): DsoError {
  if (e instanceof DsoError) return e;
  return new DsoError('DATABASE_ERROR', `${what}: ${(e as Error).message}`, { cause: e });
}

function blob(v: ArrayBufferView): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function toExperience(r: Row): Experience {
  // Copies: SQLite's buffers are not guaranteed to be 4-byte aligned or unshared.
  const embedding = new Float32Array(r.embedding.byteLength / 4);
  new Uint8Array(embedding.buffer).set(r.embedding);
  return {
    id: r.id,
    text: r.text,
    embedding,
    code: new Uint8Array(r.code),
    scale: r.scale,
    confidence: r.confidence,
    domain: r.domain,
    epoch: r.epoch,
    usageCount: r.usage_count,
    lastUsedEpoch: r.last_used_epoch,
    source: r.source,
    createdAt: r.created_at,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
  };
}

export type Synchronous = 'normal' | 'full';

export class ExperienceStore {
  private readonly db: Database.Database;
  private readonly ns: string;
  private readonly stmts: {
    insert: Database.Statement;
    remove: Database.Statement;
    usage: Database.Statement;
    epoch: Database.Statement;
    log: Database.Statement;
  };

  private constructor(db: Database.Database, ns: string) {
    this.db = db;
    this.ns = ns;
    this.stmts = {
      insert: db.prepare(
        `INSERT OR REPLACE INTO experiences (namespace, id, seq, text, domain, confidence, epoch, usage_count, last_used_epoch,
           source, created_at, metadata, embedding, code, scale)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      remove: db.prepare('DELETE FROM experiences WHERE namespace = ? AND seq = ?'),
      usage: db.prepare('UPDATE experiences SET usage_count = ?, last_used_epoch = ? WHERE namespace = ? AND seq = ?'),
      epoch: db.prepare('UPDATE libraries SET epoch = ? WHERE namespace = ?'),
      log: db.prepare('INSERT INTO usage_log (namespace, data) VALUES (?, ?)'),
    };
  }

  /**
   * Opens (creating if needed) namespace `ns` in the database at `file`
   * (':memory:' for a library that lives only as long as the process).
   * A namespace created with another dimension or embedder is refused.
   */
  static open(file: string, ns: string, meta: { dim: number; embedder: string }, synchronous: Synchronous = 'normal'): ExperienceStore {
    let db: Database.Database | undefined;
    try {
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      ExperienceStore.migrate(db);
      const found = db.prepare('SELECT dim, embedder FROM libraries WHERE namespace = ?').get(ns) as
        { dim: number; embedder: string } | undefined;
      if (found === undefined) {
        db.prepare('INSERT INTO libraries (namespace, dim, embedder, epoch, created_at) VALUES (?, ?, ?, 0, ?)').run(
          ns,
          meta.dim,
          meta.embedder,
          Date.now(),
        );
      } else if (found.dim !== meta.dim || found.embedder !== meta.embedder) {
        throw new DsoError(
          'LIBRARY_MISMATCH',
          `library '${ns}' in ${file} was built with embedder ${found.embedder} (dim ${found.dim}); it cannot be opened with ${meta.embedder} (dim ${meta.dim})`,
        );
      }
      return new ExperienceStore(db, ns);
    } catch (e) {
      db?.close();
      throw asDbError(e, `cannot open experience database ${file}`);
    }
  }

  private static migrate(db: Database.Database): void {
    db.exec(`
      CREATE TABLE IF NOT EXISTS dso_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS libraries (
        namespace TEXT PRIMARY KEY, dim INTEGER NOT NULL, embedder TEXT NOT NULL,
        epoch INTEGER NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS experiences (
        namespace TEXT NOT NULL REFERENCES libraries(namespace) ON DELETE CASCADE,
        id TEXT NOT NULL, seq INTEGER NOT NULL, text TEXT NOT NULL, domain TEXT NOT NULL,
        confidence REAL NOT NULL, epoch INTEGER NOT NULL, usage_count INTEGER NOT NULL,
        last_used_epoch INTEGER NOT NULL, source TEXT NOT NULL, created_at INTEGER NOT NULL,
        metadata TEXT NOT NULL, embedding BLOB NOT NULL, code BLOB NOT NULL, scale REAL NOT NULL,
        PRIMARY KEY (namespace, seq));
      CREATE TABLE IF NOT EXISTS usage_log (
        namespace TEXT NOT NULL REFERENCES libraries(namespace) ON DELETE CASCADE,
        data BLOB NOT NULL);

    `);
    const v = db.prepare("SELECT value FROM dso_meta WHERE key = 'schema'").get() as { value: string } | undefined;
    if (v === undefined) db.prepare("INSERT INTO dso_meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
    else if (Number(v.value) !== SCHEMA_VERSION) {
      throw new DsoError('LIBRARY_MISMATCH', `database schema ${v.value} is not the supported version ${SCHEMA_VERSION}`);
    }
  }

  /** Namespaces in a database file. */
  static namespaces(file: string): string[] {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT namespace FROM libraries ORDER BY namespace').all() as { namespace: string }[]).map((r) => r.namespace);
    } finally {
      db.close();
    }
  }

  meta(): LibraryMeta {
    return this.db.prepare('SELECT dim, embedder, epoch FROM libraries WHERE namespace = ?').get(this.ns) as LibraryMeta;
  }

  /** Every experience of the namespace, in insertion order. */
  loadAll(): StoredExperience[] {
    const rows = this.db.prepare('SELECT * FROM experiences WHERE namespace = ? ORDER BY seq').all(this.ns) as Row[];
    return rows.map((r) => ({ seq: r.seq, experience: toExperience(r) }));
  }

  /** One transaction: all of it lands or none of it does. */
  writeBatch(b: BatchWrite): void {
    const tx = this.db.transaction(() => {
      for (const seq of b.remove) this.stmts.remove.run(this.ns, seq);
      for (const { seq, experience: e } of b.put) {
        // Positional parameters: binding by name costs a property lookup per column per row.
        this.stmts.insert.run(
          this.ns,
          e.id,
          seq,
          e.text,
          e.domain,
          e.confidence,
          e.epoch,
          e.usageCount,
          e.lastUsedEpoch,
          e.source,
          e.createdAt,
          JSON.stringify(e.metadata),
          blob(e.embedding),
          blob(e.code),
          e.scale,
        );
      }
      if (b.epoch !== undefined) this.stmts.epoch.run(b.epoch, this.ns);
    });
    try {
      tx();
    } catch (e) {
      throw asDbError(e, 'experience batch not written (rolled back)');
    }
  }

  /**
   * Appends usage counts as one packed row: [seq, usageCount, lastUsedEpoch]
   * int32 triples. A retrieval-heavy node produces thousands of counts a
   * second; one small insert costs microseconds where an UPDATE per
   * experience would stall retrieval for milliseconds.
   */
  appendUsage(triples: Int32Array): void {
    try {
      this.stmts.log.run(this.ns, blob(triples));
    } catch (e) {
      throw asDbError(e, 'usage counts not written');
    }
  }

  /** Every logged triple, oldest first. */
  readUsageLog(): Int32Array {
    const rows = this.db.prepare('SELECT data FROM usage_log WHERE namespace = ? ORDER BY rowid').all(this.ns) as { data: Buffer }[];
    const out = new Int32Array(rows.reduce((s, r) => s + r.data.byteLength / 4, 0));
    let o = 0;
    for (const r of rows) {
      const v = new Int32Array(r.data.byteLength / 4);
      new Uint8Array(v.buffer).set(r.data);
      out.set(v, o);
      o += v.length;
    }
    return out;
  }

  /** Writes counts into the experience rows and empties the log, in one transaction. */
  foldUsage(updates: readonly { seq: number; usageCount: number; lastUsedEpoch: number }[]): void {
    const tx = this.db.transaction(() => {
      for (const u of updates) this.stmts.usage.run(u.usageCount, u.lastUsedEpoch, this.ns, u.seq);
      this.db.prepare('DELETE FROM usage_log WHERE namespace = ?').run(this.ns);
    });
    try {
      tx();
    } catch (e) {
      throw asDbError(e, 'usage counts not folded (rolled back)');
    }
  }

  /** Deletes the namespace and its experiences. */
  drop(): void {
    this.db.prepare('DELETE FROM libraries WHERE namespace = ?').run(this.ns);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
