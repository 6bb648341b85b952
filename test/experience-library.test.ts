import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as dagCbor from '@ipld/dag-cbor';
import Database from 'better-sqlite3';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { afterAll, describe, expect, it } from 'vitest';

import {
  checkExperienceText,
  EVICTION_POLICIES,
  ExperienceLibrary,
  HashingEmbedder,
  injectExperiences,
  NO_EXPERIENCES,
} from '../src/experience/index.js';
import { experienceId } from '../src/index.js';
import { errorCode } from './helpers/errors.js';
import { rng } from './helpers/random.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-lib-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const dbFile = () => path.join(dir, `lib-${files++}.db`);

const TOPICS = [
  'When solving a linear equation, isolate the variable before dividing both sides.',
  'When a loop never terminates, check that its counter changes on every pass.',
  'When computing a probability, count the favourable outcomes and the total outcomes separately.',
  'When simplifying a fraction, divide numerator and denominator by their greatest common divisor.',
  'When a test fails only sometimes, look for shared state between test cases.',
  'When finding the area of a triangle, take half the base times the height.',
];

describe('experience text', () => {
  it('accepts one "When ..., ..." sentence of at most 32 words, normalising whitespace', () => {
    expect(checkExperienceText('  When   x is 0.5,  halve it.  ')).toBe('When x is 0.5, halve it.');
  });
  it.each([
    ['', 'empty'],
    ['If x, then y.', 'form'],
    ['When x happens do y.', 'comma'],
    ['When x, do y. Then do z.', 'one sentence'],
    [`When ${'very '.repeat(40)}long, stop.`, 'words'],
  ])('refuses %j (%s)', (t) => {
    expect(() => checkExperienceText(t)).toThrowError(expect.objectContaining({ code: 'INVALID_EXPERIENCE' }));
  });
  it('builds exactly the DAG-CBOR bytes and CID string of the multiformats libraries', async () => {
    const r = rng(99);
    const pieces = ['When', ' x', ', y', 'é', '漢字', '🙂', '\u0000', 'a'.repeat(30), 'b'.repeat(300)];
    for (let i = 0; i < 60; i++) {
      const text = Array.from({ length: 1 + Math.floor(r() * 8) }, () => pieces[Math.floor(r() * pieces.length)]).join('');
      const domain = i === 0 ? 'd'.repeat(70_000) : pieces[Math.floor(r() * pieces.length)];
      const bytes = dagCbor.encode({ v: 1, domain, text });
      const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes));
      expect(experienceId(text, domain)).toBe(cid.toString());
    }
  });

  it('names experiences by the content id of { domain, text }', () => {
    const a = experienceId('When x, y.', 'math');
    expect(a).toMatch(/^bafyrei[a-z2-7]+$/u);
    expect(experienceId('When x, y.', 'math')).toBe(a);
    expect(experienceId('When x, y.', 'code')).not.toBe(a);
  });
});

describe('HashingEmbedder', () => {
  const emb = new HashingEmbedder();
  it('gives deterministic unit vectors of 384 dims', () => {
    const a = emb.embedSync(['When solving equations, check the answer.']);
    const b = emb.embedSync(['When solving equations, check the answer.']);
    expect(a.length).toBe(384);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(a.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 5);
    expect(emb.id).toBe('hashing-v1-384');
  });
  it('puts texts that share words nearer than texts that do not', () => {
    const [q, near, far] = [0, 1, 2].map((i) => emb.embedSync([['solve the linear equation for x', TOPICS[0], TOPICS[1]][i]]));
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
    expect(dot(q, near)).toBeGreaterThan(dot(q, far) + 0.1);
  });
  it('gives a zero row for text without words and refuses non-strings', async () => {
    expect(emb.embedSync(['!!!']).every((v) => v === 0)).toBe(true);
    await expect(emb.embed([3 as unknown as string])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => new HashingEmbedder({ dim: 0 })).toThrowError(expect.objectContaining({ code: 'INVALID_DIM' }));
  });
});

describe('ExperienceLibrary operations', () => {
  it('adds, modifies, merges, deletes and keeps, with ids that name content', async () => {
    const lib = await ExperienceLibrary.open();
    const r = await lib.add(TOPICS.slice(0, 4).map((text, i) => ({ text, domain: i === 1 ? 'code' : 'math', confidence: 0.6 })));
    expect(r.added).toHaveLength(4);
    expect(r.added[0]).toBe(experienceId(TOPICS[0], 'math'));
    const [a, b, c, d] = r.added;
    const out = await lib.applyOperations([
      { op: 'modify', id: a, text: 'When solving a linear equation, isolate the variable and substitute back to check.' },
      {
        op: 'merge',
        ids: [c, d],
        text: 'When working with fractions or probabilities, reduce every fraction to lowest terms.',
        confidence: 0.9,
      },
      { op: 'delete', id: b },
      { op: 'keep' },
    ]);
    expect(out.outcomes.map((o) => o.status)).toEqual(['modified', 'merged', 'deleted', 'kept']);
    expect(out.removed.sort()).toEqual([a, b, c, d].sort());
    expect(lib.size).toBe(2);
    const modified = lib.get(out.outcomes[0].id as string);
    expect(modified?.metadata.replaces).toBe(a);
    expect(modified?.confidence).toBe(0.6);
    const merged = lib.get(out.outcomes[1].id as string);
    expect(merged?.metadata.mergedFrom).toEqual([c, d]);
    expect(merged?.confidence).toBe(0.9);
    expect(merged?.domain).toBe('math');
    expect(merged?.code.length).toBe(48);
    await lib.close();
  });

  it('applies a batch whole or not at all', async () => {
    const file = dbFile();
    const lib = await ExperienceLibrary.open({ path: file });
    const [a, b] = (await lib.add([{ text: TOPICS[0] }, { text: TOPICS[1] }])).added;
    const before = lib.list();
    expect(
      await errorCode(
        lib.applyOperations([
          { op: 'delete', id: a },
          { op: 'add', text: 'not an experience' },
        ]),
      ),
    ).toBe('INVALID_EXPERIENCE');
    expect(
      await errorCode(
        lib.applyOperations([
          { op: 'delete', id: a },
          { op: 'modify', id: 'bafy-nope', text: TOPICS[2] },
        ]),
      ),
    ).toBe('UNKNOWN_EXPERIENCE');
    expect(
      await errorCode(
        lib.applyOperations([
          { op: 'delete', id: a },
          { op: 'modify', id: a, text: TOPICS[2] },
        ]),
      ),
    ).toBe('INVALID_OPERATION');
    expect(await errorCode(lib.applyOperations([{ op: 'merge', ids: [a], text: TOPICS[2] }]))).toBe('INVALID_OPERATION');
    expect(await errorCode(lib.applyOperations([{ op: 'frobnicate' } as never]))).toBe('INVALID_OPERATION');
    expect(await errorCode(lib.applyOperations([{ op: 'add', text: TOPICS[2], confidence: 2 }]))).toBe('INVALID_ARGUMENT');
    expect(lib.list()).toEqual(before);

    // A failure inside the database transaction (after its deletes ran) rolls back, and memory stays as it was.
    const side = new Database(file);
    side.exec(
      "CREATE TRIGGER poison BEFORE INSERT ON experiences WHEN NEW.text LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
    );
    side.close();
    const ops = [
      { op: 'delete' as const, id: b },
      { op: 'add' as const, text: 'When a value looks like poison, throw it away.' },
    ];
    expect(await errorCode(lib.applyOperations(ops))).toBe('DATABASE_ERROR');
    expect(lib.list()).toEqual(before);
    await lib.close();
    const again = await ExperienceLibrary.open({ path: file });
    expect(again.list().map((e) => e.id)).toEqual([a, b]);
    expect((await again.retrieve(TOPICS[1], { k: 1 }))[0].experience.id).toBe(b);
    await again.close();
  });

  it('folds near-duplicates into the experience already there', async () => {
    const lib = await ExperienceLibrary.open();
    const [a] = (await lib.add({ text: TOPICS[0], domain: 'math', confidence: 0.5 })).added;
    // Same words, other domain: another content id, cosine 1.
    const r = await lib.add([
      { text: TOPICS[0], domain: 'algebra', confidence: 0.8 },
      { text: TOPICS[0], domain: 'math', confidence: 0.3 },
      { text: TOPICS[1] },
      { text: `${TOPICS[1].slice(0, -1)}!` },
    ]);
    expect(r.outcomes.map((o) => o.status)).toEqual(['folded', 'duplicate', 'added', 'folded']);
    expect(r.outcomes[0].id).toBe(a);
    expect(lib.size).toBe(2);
    expect(lib.get(a)?.confidence).toBe(0.8);
    expect(lib.get(a)?.metadata.folded).toBe(2);
    await lib.close();
    const off = await ExperienceLibrary.open({ duplicateThreshold: 1 });
    await off.add([
      { text: TOPICS[0], domain: 'math' },
      { text: TOPICS[0], domain: 'algebra' },
    ]);
    expect(off.size).toBe(2);
    await off.close();
  });
});

describe('ExperienceLibrary retrieval and prompts', () => {
  it('returns the relevant experience first and counts its use', async () => {
    const lib = await ExperienceLibrary.open();
    await lib.add(TOPICS.map((text, i) => ({ text, domain: i % 2 === 0 ? 'math' : 'code', confidence: 0.7 })));
    const queries: [string, number][] = [
      ['Solve 3x + 5 = 11: isolate the variable x', 0],
      ['my while loop never terminates', 1],
      ['what is the probability of two heads, counting outcomes', 2],
      ['the area of a triangle with base 4 and height 3', 5],
    ];
    for (const [q, want] of queries) {
      const r = await lib.retrieve(q, { k: 3, countUsage: false });
      expect(r[0].experience.text).toBe(TOPICS[want]);
      expect(r[0].similarity).toBeGreaterThan(r[1].similarity);
    }
    const [hit] = await lib.retrieve(queries[0][0], { k: 1 });
    expect(lib.get(hit.experience.id)?.usageCount).toBe(1);
    expect(lib.list().filter((e) => e.usageCount > 0)).toHaveLength(1);
    const none = await lib.retrieve('zzz qqq', { k: 3, minSimilarity: 0.5, countUsage: false });
    expect(none).toEqual([]);
    const code = await lib.retrieve('solve the equation', { k: 6, domain: 'code', countUsage: false });
    expect(code.length).toBe(3);
    expect(code.every((r) => r.experience.domain === 'code')).toBe(true);
    const byVector = await lib.retrieve(lib.list()[3].embedding, { k: 1, countUsage: false });
    expect(byVector[0].experience.text).toBe(TOPICS[3]);
    expect(byVector[0].similarity).toBeCloseTo(1, 5);
    expect(await errorCode(lib.retrieve(new Float32Array(10)))).toBe('DIM_MISMATCH');
    expect(await errorCode(lib.retrieve('x', { k: 0 }))).toBe('INVALID_K');
    await lib.close();
    expect(await errorCode(lib.retrieve('x'))).toBe('LIBRARY_CLOSED');
  });

  it('formats experiences as labelled prompt lines, or None', async () => {
    const lib = await ExperienceLibrary.open();
    expect(await lib.formatForPrompt('anything')).toBe(NO_EXPERIENCES);
    await lib.add([
      { text: TOPICS[0], domain: 'math', confidence: 0.7 },
      { text: TOPICS[1], domain: 'code', confidence: 0.55 },
    ]);
    const text = await lib.formatForPrompt('isolate the variable in a linear equation', { k: 2 });
    expect(text.split('\n')).toEqual([`[G1] (math, conf:0.70) ${TOPICS[0]}`, `[G2] (code, conf:0.55) ${TOPICS[1]}`]);
    const p = await lib.buildPrompt('Solve 2x = {4}.', { k: 1 });
    expect(p.prompt).toContain(`[G1] (math, conf:0.70) ${TOPICS[0]}`);
    expect(p.prompt).toContain('Solve 2x = {4}.');
    expect(p.labels).toEqual([experienceId(TOPICS[0], 'math')]);
    expect(injectExperiences('P {experiences}', 'E')).toContain('P {experiences}');
    await lib.close();
  });
});

describe('ExperienceLibrary capacity', () => {
  const texts = Array.from(
    { length: 12 },
    (_, i) => `When case ${i} of kind ${['alpha', 'beta', 'gamma'][i % 3]} appears, apply remedy ${i}.`,
  );

  it.each(EVICTION_POLICIES)('keeps at most capacity experiences under %s', async (policy) => {
    const lib = await ExperienceLibrary.open({ capacity: 5, eviction: policy });
    const r = rng(7);
    const first = await lib.add(texts.slice(0, 5).map((text) => ({ text, confidence: 0.2 + 0.6 * r() })));
    await lib.retrieve(texts[4], { k: 1 });
    const out = await lib.add(texts.slice(5, 8).map((text) => ({ text, confidence: 0.5 })));
    expect(lib.size).toBe(5);
    expect(out.evicted).toHaveLength(3);
    // A batch's own additions go last.
    expect(out.added).toHaveLength(3);
    expect(out.evicted.every((id) => first.added.includes(id))).toBe(true);
    await lib.close();
  });

  it('evicts the least important, the least recent, or the most redundant', async () => {
    const imp = await ExperienceLibrary.open({ capacity: 3, eviction: 'importance' });
    await imp.add([
      { text: texts[0], confidence: 0.9 },
      { text: texts[1], confidence: 0.1 },
      { text: texts[2], confidence: 0.5 },
    ]);
    expect((await imp.add({ text: texts[3] })).evicted).toEqual([experienceId(texts[1], 'general')]);
    await imp.close();

    const tmp = await ExperienceLibrary.open({ capacity: 3, eviction: 'temporal' });
    await tmp.add([{ text: texts[0] }, { text: texts[1] }, { text: texts[2] }]);
    await tmp.setEpoch(1);
    await tmp.retrieve(texts[0], { k: 1 });
    await tmp.retrieve(texts[2], { k: 1 });
    expect((await tmp.add({ text: texts[3] })).evicted).toEqual([experienceId(texts[1], 'general')]);
    await tmp.close();

    const div = await ExperienceLibrary.open({ capacity: 3, eviction: 'diversity' });
    const twin = 'When case 0 of kind alpha shows up, apply remedy 0 quickly.';
    await div.add([{ text: texts[0] }, { text: twin }, { text: 'When the network times out, retry with exponential backoff.' }]);
    const ev = (await div.add({ text: 'When a proof feels circular, write down each assumption explicitly.' })).evicted;
    expect([experienceId(texts[0], 'general'), experienceId(twin, 'general')]).toContain(ev[0]);
    await div.close();
  });
});

describe('ExperienceLibrary persistence', () => {
  it('reopens to the same library, keeps namespaces apart and refuses another embedder', async () => {
    const file = dbFile();
    const a = await ExperienceLibrary.open({ path: file, namespace: 'alpha' });
    const b = await ExperienceLibrary.open({ path: file, namespace: 'beta' });
    await a.add(TOPICS.slice(0, 3).map((text) => ({ text, domain: 'math' })));
    await b.add({ text: TOPICS[4], domain: 'code' });
    await a.retrieve(TOPICS[1], { k: 1 });
    await a.setEpoch(4);
    const snapshot = a.list();
    await a.close();
    await b.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const a2 = await ExperienceLibrary.open({ path: file, namespace: 'alpha' });
    expect(a2.list()).toEqual(snapshot);
    expect(a2.epoch).toBe(4);
    expect(a2.list().find((e) => e.text === TOPICS[1])?.usageCount).toBe(1);
    expect((await a2.retrieve('isolate the variable', { k: 1 }))[0].experience.text).toBe(TOPICS[0]);
    const b2 = await ExperienceLibrary.open({ path: file, namespace: 'beta' });
    expect(b2.list().map((e) => e.text)).toEqual([TOPICS[4]]);
    await a2.close();
    await b2.close();
    expect(await errorCode(ExperienceLibrary.open({ path: file, namespace: 'alpha', embedder: new HashingEmbedder({ dim: 256 }) }))).toBe(
      'LIBRARY_MISMATCH',
    );
    expect(await errorCode(ExperienceLibrary.open({ path: path.join(dir, 'no', 'such', 'dir.db') }))).toBe('DATABASE_ERROR');
    expect(await errorCode(ExperienceLibrary.open({ capacity: 0 }))).toBe('INVALID_COUNT');
    expect(await errorCode(ExperienceLibrary.open({ eviction: 'random' as never }))).toBe('INVALID_ARGUMENT');
  });

  it('keeps usage counts logged before the process was killed', async () => {
    const file = dbFile();
    const lib = await ExperienceLibrary.open({ path: file });
    const [a] = (await lib.add([{ text: TOPICS[0] }, { text: TOPICS[1] }])).added;
    await lib.close();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/usage-child.ts', file, TOPICS[0]], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => {
      child.stdout.on('data', () => child.kill('SIGKILL'));
      child.on('exit', () => resolve());
    });
    const again = await ExperienceLibrary.open({ path: file });
    expect(again.get(a)?.usageCount).toBe(2);
    expect(again.get(a)?.lastUsedEpoch).toBe(0);
    await again.close();
    // Folded at open: the log is empty and the row holds the count.
    const db = new Database(file, { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM usage_log').get() as { n: number }).n).toBe(0);
    expect((db.prepare('SELECT usage_count FROM experiences WHERE id = ?').get(a) as { usage_count: number }).usage_count).toBe(2);
    db.close();
  }, 60_000);

  it('loses no committed batch and applies no half batch when the process is killed', async () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const file = dbFile();
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/library-child.ts', file], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let committed = -1;
      const target = 3 + Math.floor(rng(seed)() * 5);
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          for (const line of d.toString().split('\n').filter(Boolean)) committed = Math.max(committed, Number(line));
          if (committed >= target) {
            // Let it start the next batch, then kill it without warning.
            setTimeout(() => child.kill('SIGKILL'), seed);
          }
        });
        child.on('exit', () => resolve());
      });
      const lib = await ExperienceLibrary.open({ path: file, capacity: 1_000_000 });
      const byBatch = new Map<number, number>();
      for (const e of lib.list()) byBatch.set(e.metadata.batch as number, (byBatch.get(e.metadata.batch as number) ?? 0) + 1);
      const last = Math.max(...byBatch.keys());
      expect(last).toBeGreaterThanOrEqual(committed);
      for (let b = 0; b <= last; b++) expect(byBatch.get(b)).toBe(b === last ? 40 : 39);
      await lib.close();
    }
  }, 120_000);
});
