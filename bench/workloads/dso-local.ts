/**
 * Local DSO workloads (issue 5), on the default embedder (HashingEmbedder):
 *  Libraries run on their default engine (native, calls of up to 32 MB inline).
 *  L1 ingest: hash-embed + quantize + near-duplicate check + index + SQLite
 *     (WAL) persist, in batches, into a file library; beside the two floors it
 *     cannot beat: embedding alone and a bare better-sqlite3 insert of the
 *     same rows.
 *  L2 retrieval over the ingested library, one query at a time: latency
 *     percentiles, and how often the 1-bit search + cosine rescoring returns
 *     the exact float-cosine top result (a full float scan is the baseline).
 *  L3 one optimizer step's overhead outside the model calls, with an
 *     in-process model that answers at once, over a 200-experience library.
 *  L4 BitDelta wire records of 1,000 experiences: time to compress and
 *     encode, and the bytes of a record against the same record carrying its
 *     float32 embedding.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import Database from 'better-sqlite3';

import { ActiveSemanticOptimizer, type ChatModel } from '../../src/aso/index.js';
import { ExperienceLibrary, HashingEmbedder } from '../../src/experience/index.js';
import { BitDeltaQuantizer, createEngine, encodeCompressed } from '../../src/index.js';
import { xorshift } from '../lib/data.js';
import type { Row } from '../lib/report.js';

export interface LocalSizes {
  ingest: number;
  batch: number;
  queries: number;
  steps: number;
}

/** Uniform in [0, 1) from the bench's seeded xorshift. */
function uniform(seed: number): () => number {
  const r = xorshift(seed);
  return () => r() / 4294967296;
}

function vocabulary(n: number, rand: () => number): string[] {
  const syl = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'shi', 'po', 'ven', 'dor', 'el', 'qua', 'zi', 'bro', 'fen', 'gal'];
  const words = new Set<string>();
  while (words.size < n) {
    let w = '';
    for (let s = 0, len = 2 + Math.floor(rand() * 3); s < len; s++) w += syl[Math.floor(rand() * syl.length)];
    words.add(w);
  }
  return [...words];
}

/** Distinct "When ..., ..." sentences of 14-22 words from a 4,000-word vocabulary. */
function experiences(n: number, seed: number): string[] {
  const rand = uniform(seed);
  const vocab = vocabulary(4000, rand);
  const pick = (k: number) => Array.from({ length: k }, () => vocab[Math.floor(rand() * vocab.length)]).join(' ');
  return Array.from({ length: n }, (_, i) => `When ${pick(6 + Math.floor(rand() * 4))} ${i}, ${pick(6 + Math.floor(rand() * 4))}.`);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** L1: ingest through the library (with and without the near-duplicate check), beside the embedding and persistence floors. */
async function ingestRows(S: LocalSizes, dir: string, texts: string[]): Promise<{ rows: Row[]; library: ExperienceLibrary }> {
  const rows: Row[] = [];
  const size = `${S.ingest} experiences, batches of ${S.batch}`;
  const embedder = new HashingEmbedder();
  const te = performance.now();
  for (let i = 0; i < texts.length; i += S.batch) embedder.embedSync(texts.slice(i, i + S.batch));
  const embedSecs = (performance.now() - te) / 1000;
  rows.push({
    workload: 'L1 ingest',
    impl: 'HashingEmbedder alone',
    size,
    seconds: embedSecs,
    throughput: S.ingest / embedSecs,
    unit: 'exp/s',
    note: 'floor: embedding',
  });

  let library: ExperienceLibrary | undefined;
  for (const dedup of [true, false]) {
    const file = path.join(dir, `ingest-${dedup}.db`);
    const lib = await ExperienceLibrary.open({ path: file, capacity: S.ingest, duplicateThreshold: dedup ? 0.9 : 1 });
    const t0 = performance.now();
    for (let i = 0; i < texts.length; i += S.batch) await lib.add(texts.slice(i, i + S.batch).map((text) => ({ text, confidence: 0.8 })));
    const secs = (performance.now() - t0) / 1000;
    rows.push({
      workload: 'L1 ingest',
      impl: `ExperienceLibrary.add, ${dedup ? 'near-duplicate check on' : 'no near-duplicate check'}`,
      size,
      seconds: secs,
      throughput: S.ingest / secs,
      unit: 'exp/s',
      note: `${lib.size} stored; target >= 20,000 exp/s`,
    });
    if (dedup) library = lib;
    else await lib.close();
  }

  // The persistence floor: the same rows inserted by better-sqlite3 with nothing else to do.
  const raw = new Database(path.join(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec('CREATE TABLE t (id TEXT PRIMARY KEY, text TEXT, embedding BLOB, code BLOB, scale REAL)');
  const ins = raw.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?)');
  const emb = Buffer.alloc(1536);
  const code = Buffer.alloc(48);
  const tr = performance.now();
  for (let i = 0; i < texts.length; i += S.batch) {
    raw.transaction(() => {
      for (let j = i; j < Math.min(texts.length, i + S.batch); j++) ins.run(`id${j}`, texts[j], emb, code, 0.5);
    })();
  }
  const rawSecs = (performance.now() - tr) / 1000;
  raw.close();
  rows.push({
    workload: 'L1 ingest',
    impl: 'better-sqlite3 insert alone',
    size,
    seconds: rawSecs,
    throughput: S.ingest / rawSecs,
    unit: 'exp/s',
    note: 'floor: persistence',
  });
  return { rows, library: library as ExperienceLibrary };
}

/** L2: retrieval with queries of 7 words of a stored experience (the wanted answer is known), beside a float32 full scan. */
async function retrievalRows(S: LocalSizes, lib: ExperienceLibrary, texts: string[]): Promise<{ rows: Row[]; queries: string[] }> {
  const rand = uniform(52);
  const targets = Array.from({ length: S.queries }, () => Math.floor(rand() * texts.length));
  const queries = targets.map((t) =>
    texts[t]
      .replace(/^When /u, '')
      .replace(/[,.]/gu, '')
      .split(' ')
      .filter(() => rand() < 0.5)
      .slice(0, 7)
      .join(' '),
  );
  for (let i = 0; i < 50; i++) await lib.retrieve(queries[i], { k: 10 });
  const lat: number[] = [];
  const top: string[] = [];
  const tq = performance.now();
  for (const q of queries) {
    const t = performance.now();
    const r = await lib.retrieve(q, { k: 10 });
    lat.push(performance.now() - t);
    top.push(r[0]?.experience.id ?? '');
  }
  const qSecs = (performance.now() - tq) / 1000;
  lat.sort((a, b) => a - b);
  // Exact float top-1 by a full scan, for the agreement figure and as the no-index baseline.
  const embedder = new HashingEmbedder();
  const all = lib.list();
  const dim = embedder.dim;
  const matrix = new Float32Array(all.length * dim);
  all.forEach((e, i) => matrix.set(e.embedding, i * dim));
  let agree = 0;
  const scanQueries = Math.min(200, queries.length);
  const ts = performance.now();
  for (let qi = 0; qi < scanQueries; qi++) {
    const v = embedder.embedSync([queries[qi]]);
    let best = -Infinity;
    let arg = -1;
    for (let r = 0; r < all.length; r++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += matrix[r * dim + j] * v[j];
      if (s > best) [best, arg] = [s, r];
    }
    if (all[arg].id === top[qi]) agree++;
  }
  const scanSecs = (performance.now() - ts) / 1000 / scanQueries;
  const rows: Row[] = [
    {
      workload: 'L2 retrieval',
      impl: 'ExperienceLibrary.retrieve (1-bit + rescore)',
      size: `${lib.size} experiences, k 10, ${S.queries} queries`,
      seconds: qSecs / S.queries,
      throughput: S.queries / qSecs,
      unit: 'q/s',
      note: `p50 ${pct(lat, 0.5).toFixed(2)} ms, p99 ${pct(lat, 0.99).toFixed(2)} ms (target p99 <= 2 ms); top-1 = exact float top-1 for ${((100 * agree) / scanQueries).toFixed(1)}%`,
    },
    {
      workload: 'L2 retrieval',
      impl: 'float32 cosine full scan (TS)',
      size: `${lib.size} experiences, ${scanQueries} queries`,
      seconds: scanSecs,
      throughput: 1 / scanSecs,
      unit: 'q/s',
      note: 'baseline: no index',
    },
  ];
  return { rows, queries };
}

/** L4: 1,000 library experiences compressed for the network and encoded, with the bytes saved. */
async function wireRows(lib: ExperienceLibrary): Promise<Row[]> {
  const sample = lib.list().slice(0, 1000);
  const qEngine = await createEngine({ backend: 'native' });
  const quantizer = new BitDeltaQuantizer({ engine: qEngine });
  try {
    await quantizer.compressForNetwork(sample.slice(0, 10), { minConfidence: 0 });
    const tc = performance.now();
    const records = await quantizer.compressForNetwork(sample, { minConfidence: 0 });
    for (const r of records) encodeCompressed(r);
    const cSecs = (performance.now() - tc) / 1000;
    const rep = BitDeltaQuantizer.compressionReport(
      records,
      sample.map((e) => e.embedding),
    );
    return [
      {
        workload: 'L4 wire record',
        impl: 'compressForNetwork + DAG-CBOR encode',
        size: `${records.length} experiences`,
        seconds: cSecs,
        throughput: records.length / cSecs,
        unit: 'rec/s',
        note:
          `embedding ${rep.float32EmbeddingBytes} -> ${rep.embeddingBytes} B (${rep.embeddingRatio.toFixed(1)}x); ` +
          `whole record ${rep.float32RecordBytes.toFixed(0)} -> ${rep.recordBytes.toFixed(0)} B (${rep.recordRatio.toFixed(2)}x)`,
      },
    ];
  } finally {
    await qEngine.close();
  }
}

/** L3: optimizer step overhead with a model that answers immediately. */
async function optimizerRows(S: LocalSizes, texts: string[], queries: string[]): Promise<Row[]> {
  const small = await ExperienceLibrary.open({ capacity: 200 });
  await small.add(texts.slice(0, 200).map((text) => ({ text, domain: 'math', confidence: 0.7 })));
  let turn = 0;
  const model: ChatModel = {
    name: 'in-process',
    async chat(messages) {
      const p = messages[messages.length - 1].content;
      if (p.startsWith('Solve the problem below')) return { content: `Thinking.\n\\boxed{${turn++ % 2}}` };
      if (p.startsWith('You are reviewing')) return { content: 'Set up the equation, solved it, checked it.' };
      return { content: JSON.stringify({ operations: [{ op: 'add', text: `When step ${turn} happens, note lesson number ${turn}.` }] }) };
    },
  };
  const aso = new ActiveSemanticOptimizer({ library: small, model });
  const over: number[] = [];
  for (let i = 0; i < S.steps; i++) {
    const r = await aso.step({ query: queries[i % queries.length], groundTruth: '1', domain: 'math' });
    if (i >= 10) over.push(r.timings.overheadMs);
  }
  over.sort((a, b) => a - b);
  const mean = over.reduce((s, v) => s + v, 0) / over.length;
  aso.close();
  await small.close();
  return [
    {
      workload: 'L3 optimizer step',
      impl: 'ActiveSemanticOptimizer.step overhead',
      size: `group 5, library 200, ${over.length} steps`,
      seconds: mean / 1000,
      throughput: 1000 / mean,
      unit: 'steps/s',
      note: `overhead outside model calls: mean ${mean.toFixed(2)} ms, p99 ${pct(over, 0.99).toFixed(2)} ms (target <= 5 ms)`,
    },
  ];
}

export async function localDsoWorkload(S: LocalSizes): Promise<Row[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-bench-lib-'));
  const texts = experiences(S.ingest, 51);
  try {
    const ingest = await ingestRows(S, dir, texts);
    try {
      const retrieval = await retrievalRows(S, ingest.library, texts);
      const wire = await wireRows(ingest.library);
      return [...ingest.rows, ...retrieval.rows, ...wire, ...(await optimizerRows(S, texts, retrieval.queries))];
    } finally {
      await ingest.library.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
