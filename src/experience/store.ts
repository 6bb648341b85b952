/**
 * SQLite persistence of experience libraries (better-sqlite3, WAL mode). One
 * file holds many libraries, each under its namespace. Every change the
 * library makes is one transaction, so a process killed at any point leaves
 * the file as of the last committed batch: never half a batch.
 *
 * Rows are keyed by (namespace, seq), the library's insertion counter, not by
 * id: ids are hashes, and a b-tree keyed by hashes takes its inserts all over
 * its pages, which doubled the cost of a row. The library keeps ids unique.
 *
 * Several processes may share a file. The counter lives in the database, so
 * two writers never number two rows alike; each library has a version that
 * every commit raises and each row the version that last wrote it, so a
 * process reads what others committed (changesSince) and a batch planned
 * against an old version is refused rather than written over theirs.
 */
import Database from 'better-sqlite3';

import { DsoError } from '../core/errors.js';
import type { Experience } from './experience.js';

const SCHEMA_VERSION = 2;

/** A stored experience and its row number, which orders the library (insertion order). */
export interface StoredExperience {
  seq: number;
  experience: Experience;
}

export interface BatchWrite {
  /**
   * The library version the batch was planned against: the write is refused
   * (writeBatch returns undefined) if another connection committed since.
   * Absent: written whatever the version (epoch changes).
   */
  base?: number;
  /** Rows (seq) to delete. */
  remove: number[];
  /** Rewritten rows (a near-duplicate folded into an existing experience), and new ones (seq -1: numbered here). */
  put: StoredExperience[];
  epoch?: number;
}

/** A committed write: the version it made, the one it replaced, and the row numbers given to the new rows (in put order). */
export interface Committed {
  version: number;
  previous: number;
  seqs: number[];
}

/** What other connections committed since a version: rows written after it, and every live row number. */
export interface Changes {
  version: number;
  epoch: number;
  rows: StoredExperience[];
  live: number[];
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

const EXPERIENCES_TABLE = `
  CREATE TABLE IF NOT EXISTS experiences (
    namespace TEXT NOT NULL REFERENCES libraries(namespace) ON DELETE CASCADE,
    id TEXT NOT NULL, seq INTEGER NOT NULL, text TEXT NOT NULL, domain TEXT NOT NULL,
    confidence REAL NOT NULL, epoch INTEGER NOT NULL, usage_count INTEGER NOT NULL,
    last_used_epoch INTEGER NOT NULL, source TEXT NOT NULL, created_at INTEGER NOT NULL,
    metadata TEXT NOT NULL, embedding BLOB NOT NULL, code BLOB NOT NULL, scale REAL NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (namespace, seq));`;

/** Sums usage-log rows ([seq, uses, lastUsedEpoch] int32 triples) per row: uses add up, epochs take the latest. */
function usageBySeq(rows: readonly { data: Buffer }[]): Map<number, { uses: number; last: number }> {
  const out = new Map<number, { uses: number; last: number }>();
  for (const r of rows) {
    const v = new Int32Array(r.data.byteLength / 4);
    new Uint8Array(v.buffer).set(r.data);
    for (let i = 0; i + 2 < v.length; i += 3) {
      const u = out.get(v[i]);
      if (u === undefined) out.set(v[i], { uses: v[i + 1], last: v[i + 2] });
      else {
        u.uses += v[i + 1];
        u.last = Math.max(u.last, v[i + 2]);
      }
    }
  }
  return out;
}

export class ExperienceStore {
  private readonly db: Database.Database;
  private readonly ns: string;
  private readonly stmts: {
    insert: Database.Statement;
    remove: Database.Statement;
    usage: Database.Statement;
    state: Database.Statement;
    bump: Database.Statement;
    epoch: Database.Statement;
    version: Database.Statement;
    since: Database.Statement;
    live: Database.Statement;
    log: Database.Statement;
    readLog: Database.Statement;
    clearLog: Database.Statement;
  };

  private constructor(db: Database.Database, ns: string) {
    this.db = db;
    this.ns = ns;
    this.stmts = {
      insert: db.prepare(
        `INSERT OR REPLACE INTO experiences (namespace, id, seq, text, domain, confidence, epoch, usage_count, last_used_epoch,
           source, created_at, metadata, embedding, code, scale, rev)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      remove: db.prepare('DELETE FROM experiences WHERE namespace = ? AND seq = ?'),
      usage: db.prepare(
        `UPDATE experiences SET usage_count = usage_count + ?, last_used_epoch = MAX(last_used_epoch, ?), rev = ?
         WHERE namespace = ? AND seq = ?`,
      ),
      state: db.prepare('SELECT version, next_seq AS nextSeq, epoch FROM libraries WHERE namespace = ?'),
      bump: db.prepare('UPDATE libraries SET version = ?, next_seq = ? WHERE namespace = ?'),
      epoch: db.prepare('UPDATE libraries SET epoch = ? WHERE namespace = ?'),
      version: db.prepare('SELECT version FROM libraries WHERE namespace = ?').pluck(),
      since: db.prepare('SELECT * FROM experiences WHERE namespace = ? AND rev > ? ORDER BY seq'),
      live: db.prepare('SELECT seq FROM experiences WHERE namespace = ?').pluck(),
      log: db.prepare('INSERT INTO usage_log (namespace, data) VALUES (?, ?)'),
      readLog: db.prepare('SELECT data FROM usage_log WHERE namespace = ? ORDER BY rowid'),
      clearLog: db.prepare('DELETE FROM usage_log WHERE namespace = ?'),
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
      const conn = db;
      // Immediate: two processes creating the same file or namespace at once take turns instead of failing.
      conn
        .transaction(() => {
          ExperienceStore.migrate(conn);
          const found = conn.prepare('SELECT dim, embedder FROM libraries WHERE namespace = ?').get(ns) as
            { dim: number; embedder: string } | undefined;
          if (found === undefined) {
            conn
              .prepare('INSERT INTO libraries (namespace, dim, embedder, epoch, created_at) VALUES (?, ?, ?, 0, ?)')
              .run(ns, meta.dim, meta.embedder, Date.now());
          } else if (found.dim !== meta.dim || found.embedder !== meta.embedder) {
            throw new DsoError(
              'LIBRARY_MISMATCH',
              `library '${ns}' in ${file} was built with embedder ${found.embedder} (dim ${found.dim}); it cannot be opened with ${meta.embedder} (dim ${meta.dim})`,
            );
          }
        })
        .immediate();
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
        epoch INTEGER NOT NULL, created_at INTEGER NOT NULL,
        version INTEGER NOT NULL DEFAULT 0, next_seq INTEGER NOT NULL DEFAULT 0);
      ${EXPERIENCES_TABLE}
      CREATE TABLE IF NOT EXISTS usage_log (
        namespace TEXT NOT NULL REFERENCES libraries(namespace) ON DELETE CASCADE,
        data BLOB NOT NULL);
    `);
    const v = db.prepare("SELECT value FROM dso_meta WHERE key = 'schema'").get() as { value: string } | undefined;
    if (v === undefined) db.prepare("INSERT INTO dso_meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
    else if (Number(v.value) === 1) ExperienceStore.migrateFrom1(db);
    else if (Number(v.value) !== SCHEMA_VERSION) {
      throw new DsoError('LIBRARY_MISMATCH', `database schema ${v.value} is not the supported version ${SCHEMA_VERSION}`);
    }
  }

  /**
   * Schema 1 numbered rows in each process's memory and logged absolute usage
   * counts. Schema 2 keeps the next row number and a version per library, a
   * revision per row, and logs usage increments, so that several processes
   * can share a file.
   */
  private static migrateFrom1(db: Database.Database): void {
    const logged = db.prepare('SELECT namespace, data FROM usage_log').all() as { namespace: string; data: Buffer }[];
    const absolute = db.prepare(
      'UPDATE experiences SET usage_count = MAX(usage_count, ?), last_used_epoch = MAX(last_used_epoch, ?) WHERE namespace = ? AND seq = ?',
    );
    for (const r of logged) {
      const v = new Int32Array(r.data.byteLength / 4);
      new Uint8Array(v.buffer).set(r.data);
      for (let i = 0; i + 2 < v.length; i += 3) absolute.run(v[i + 1], v[i + 2], r.namespace, v[i]);
    }
    db.exec(`
      DELETE FROM usage_log;
      ALTER TABLE libraries ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE libraries ADD COLUMN next_seq INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE experiences ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
      UPDATE libraries SET next_seq = COALESCE((SELECT MAX(seq) + 1 FROM experiences e WHERE e.namespace = libraries.namespace), 0);
    `);
    db.prepare("UPDATE dso_meta SET value = ? WHERE key = 'schema'").run(String(SCHEMA_VERSION));
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

  private state(): { version: number; nextSeq: number; epoch: number } {
    const s = this.stmts.state.get(this.ns) as { version: number; nextSeq: number; epoch: number } | undefined;
    if (s === undefined) throw new DsoError('LIBRARY_CLOSED', `library '${this.ns}' was dropped by another process`);
    return s;
  }

  /** Every experience of the namespace, in insertion order, and the version they are as of. */
  loadAll(): { version: number; epoch: number; rows: StoredExperience[] } {
    return this.db
      .transaction(() => {
        const { version, epoch } = this.state();
        const rows = this.db.prepare('SELECT * FROM experiences WHERE namespace = ? ORDER BY seq').all(this.ns) as Row[];
        return { version, epoch, rows: rows.map((r) => ({ seq: r.seq, experience: toExperience(r) })) };
      })
      .deferred();
  }

  /** What other connections committed after `version`, as one snapshot; undefined when nothing was. */
  changesSince(version: number): Changes | undefined {
    try {
      const now = this.stmts.version.get(this.ns) as number | undefined;
      if (now === version) return undefined;
      return this.db
        .transaction(() => {
          const s = this.state();
          const rows = this.stmts.since.all(this.ns, version) as Row[];
          return {
            version: s.version,
            epoch: s.epoch,
            rows: rows.map((r) => ({ seq: r.seq, experience: toExperience(r) })),
            live: this.stmts.live.all(this.ns) as number[],
          };
        })
        .deferred();
    } catch (e) {
      throw asDbError(e, 'cannot read the library');
    }
  }

  /**
   * One transaction: all of it lands or none of it does. Returns undefined,
   * writing nothing, when `base` is given and another connection committed
   * since that version; new rows are numbered from the database's counter,
   * so two processes never reuse a row number.
   */
  writeBatch(b: BatchWrite): Committed | undefined {
    const tx = this.db.transaction((): Committed | undefined => {
      const s = this.state();
      if (b.base !== undefined && s.version !== b.base) return undefined;
      const version = s.version + 1;
      let next = s.nextSeq;
      const seqs: number[] = [];
      for (const seq of b.remove) this.stmts.remove.run(this.ns, seq);
      for (const { seq: given, experience: e } of b.put) {
        const seq = given < 0 ? next++ : given;
        if (given < 0) seqs.push(seq);
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
          version,
        );
      }
      if (b.epoch !== undefined) this.stmts.epoch.run(b.epoch, this.ns);
      this.stmts.bump.run(version, next, this.ns);
      return { version, previous: s.version, seqs };
    });
    try {
      // Immediate: the version check and the write are one step no other process can come between.
      return tx.immediate();
    } catch (e) {
      throw asDbError(e, 'experience batch not written (rolled back)');
    }
  }

  /**
   * Appends usage increments as one packed row: [seq, uses, lastUsedEpoch]
   * int32 triples. A retrieval-heavy node produces thousands of counts a
   * second; one small insert costs microseconds where an UPDATE per
   * experience would stall retrieval for milliseconds. Increments, not
   * totals: processes sharing the file each add their own.
   */
  appendUsage(triples: Int32Array): void {
    try {
      this.stmts.log.run(this.ns, blob(triples));
    } catch (e) {
      throw asDbError(e, 'usage counts not written');
    }
  }

  /**
   * Adds every logged increment (any process's) into the experience rows and
   * empties the log, in one transaction. The rows changed get a new revision,
   * so every connection reads their counts back at its next refresh.
   */
  foldUsage(): void {
    const tx = this.db.transaction(() => {
      const bySeq = usageBySeq(this.stmts.readLog.all(this.ns) as { data: Buffer }[]);
      if (bySeq.size === 0) return;
      const s = this.state();
      const version = s.version + 1;
      for (const [seq, u] of bySeq) this.stmts.usage.run(u.uses, u.last, version, this.ns, seq);
      this.stmts.clearLog.run(this.ns);
      this.stmts.bump.run(version, s.nextSeq, this.ns);
    });
    try {
      tx.immediate();
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
