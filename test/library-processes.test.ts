/**
 * Several processes (or several connections) on one library file: each sees
 * the batches the others committed before it plans its own, row numbers come
 * from the database, and nothing one writer commits is overwritten by another.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { ExperienceLibrary } from '../src/experience/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-shared-lib-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const dbFile = () => path.join(dir, `lib-${files++}.db`);

function writer(file: string, tag: string, count: number, batch: number): Promise<{ added: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/library-writer.ts', file, tag, String(count), String(batch)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as { added: number }) : reject(new Error(`writer ${tag} exited ${code}`)),
    ),
  );
}

describe('one library file shared by several processes', () => {
  it('keeps every experience two concurrent writer processes add', async () => {
    const file = dbFile();
    // Created first, so both writers open an existing namespace.
    await (await ExperienceLibrary.open({ path: file })).close();
    const [a, b] = await Promise.all([writer(file, 'a', 300, 10), writer(file, 'b', 300, 10)]);
    expect(a.added).toBe(300);
    expect(b.added).toBe(300);
    const db = new Database(file, { readonly: true });
    const rows = db.prepare('SELECT id, seq FROM experiences').all() as { id: string; seq: number }[];
    db.close();
    expect(rows).toHaveLength(600);
    expect(new Set(rows.map((r) => r.id)).size).toBe(600);
    const lib = await ExperienceLibrary.open({ path: file, capacity: 1_000_000 });
    expect(lib.list().filter((e) => e.metadata.writer === 'a')).toHaveLength(300);
    expect(lib.list().filter((e) => e.metadata.writer === 'b')).toHaveLength(300);
    await lib.close();
  }, 120_000);

  it("folds into, retrieves and deletes what another connection committed, and counts both processes' uses", async () => {
    const file = dbFile();
    const a = await ExperienceLibrary.open({ path: file });
    const b = await ExperienceLibrary.open({ path: file });
    const text = 'When a shared library is written by two nodes, read before you write.';
    const [id] = (await a.add({ text, confidence: 0.4 })).added;
    // b opened before a wrote: it sees a's batch before planning its own, so the same text is a duplicate, not a second row.
    const r = await b.add({ text, confidence: 0.8 });
    expect(r.outcomes).toEqual([{ op: 'add', status: 'duplicate', id }]);
    expect(r.size).toBe(1);
    expect((await a.retrieve(text, { k: 1 }))[0].experience.confidence).toBe(0.8);
    // A near-duplicate written by a folds too.
    const near = (await a.add({ text: 'When a shared library is written by two nodes, read before you write!' })).outcomes[0];
    expect(near).toMatchObject({ status: 'folded', id });
    // Retrieval in b sees a's new experience without a batch of its own.
    const [other] = (await a.add({ text: 'When a proof stalls, try contradiction.' })).added;
    expect((await b.retrieve('proof stalls contradiction', { k: 1 }))[0].experience.id).toBe(other);
    await b.applyOperations([{ op: 'delete', id: other }]);
    expect(await a.retrieve('proof stalls contradiction', { k: 5 })).toHaveLength(1);
    expect(a.has(other)).toBe(false);
    // Uses add up across processes: two retrievals of it in a (above), three in b.
    for (let i = 0; i < 3; i++) await b.retrieve(text, { k: 1 });
    await a.close();
    await b.close();
    const again = await ExperienceLibrary.open({ path: file });
    expect(again.list().map((e) => [e.id, e.usageCount])).toEqual([[id, 5]]);
    await again.close();
  }, 60_000);

  it('opens a file of schema 1, numbering new rows after its old ones and keeping its logged counts', async () => {
    const file = dbFile();
    const lib = await ExperienceLibrary.open({ path: file, duplicateThreshold: 1 });
    const [first] = (await lib.add([{ text: 'When migrating, keep the rows.' }, { text: 'When migrating, keep the counts.' }])).added;
    await lib.close();
    // Back to schema 1 as an older release left it: no counter, version or revisions, and absolute counts in the log.
    const db = new Database(file);
    db.exec(`ALTER TABLE libraries DROP COLUMN version; ALTER TABLE libraries DROP COLUMN next_seq;
             ALTER TABLE experiences DROP COLUMN rev; UPDATE dso_meta SET value = '1' WHERE key = 'schema'`);
    const seq = (db.prepare('SELECT seq FROM experiences WHERE id = ?').get(first) as { seq: number }).seq;
    db.prepare("INSERT INTO usage_log (namespace, data) VALUES ('default', ?)").run(Buffer.from(new Int32Array([seq, 7, 3]).buffer));
    db.close();
    const again = await ExperienceLibrary.open({ path: file, duplicateThreshold: 1 });
    expect(again.get(first)).toMatchObject({ usageCount: 7, lastUsedEpoch: 3 });
    await again.add({ text: 'When migrating, number new rows after the old ones.' });
    expect(again.list().map((e) => e.text)).toEqual([
      'When migrating, keep the rows.',
      'When migrating, keep the counts.',
      'When migrating, number new rows after the old ones.',
    ]);
    await again.close();
  });
});
