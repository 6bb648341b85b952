/** dso index build | search: a BinaryIndex from a vector file, and top-k searches over it. */
import { type Command, Option } from 'commander';

import { BinaryIndex, type SearchResult } from '../../binary-index/binary-index.js';
import { openVectors, type VectorFile } from '../../binary-index/readers.js';
import { DsoError } from '../../core/errors.js';
import type { Engine } from '../../engine/types.js';
import { type EngineFlags, engineFor } from '../engine-options.js';
import { backendOption, int, verboseOption } from '../options.js';
import { rate, table } from '../output.js';
import { progress } from '../progress.js';

/** Per-dimension mean of up to the first 100,000 rows: a baseline that centres the data. */
async function sampleMean(src: VectorFile): Promise<Float32Array> {
  const rows = Math.min(src.rows, 100_000);
  const x = (await src.read(0, rows)) as Float32Array;
  const mean = new Float64Array(src.dim);
  for (let r = 0; r < rows; r++) for (let j = 0; j < src.dim; j++) mean[j] += x[r * src.dim + j];
  return Float32Array.from(mean, (v) => v / Math.max(1, rows));
}

function noteConversion(src: VectorFile, file: string): void {
  if (src.conversion) console.error(`dso: note: ${file}: ${src.conversion}`);
}

interface BuildFlags extends EngineFlags {
  input: string;
  out: string;
  dim?: number;
  center?: boolean;
  keepVectors?: boolean;
  batch: number;
}

async function build(o: BuildFlags): Promise<void> {
  const src = await openVectors(o.input, { dim: o.dim });
  const engine = await engineFor(o);
  try {
    noteConversion(src, o.input);
    if (o.dim !== undefined && src.kind !== 'codes' && o.dim !== src.dim) {
      throw new DsoError('DIM_MISMATCH', `--dim ${o.dim} but ${o.input} holds ${src.dim}-dimensional rows`);
    }
    const center = o.center ?? src.kind === 'uint8';
    if (src.kind === 'codes' && (center || o.keepVectors)) {
      throw new DsoError('INVALID_ARGUMENT', '--center and --keep-vectors need float vectors, not packed codes');
    }
    const baseline = center ? await sampleMean(src) : undefined;
    const index = new BinaryIndex({ dim: src.dim, engine, baseline });
    const bar = progress('build', src.rows);
    const t0 = performance.now();
    for (let r0 = 0; r0 < src.rows; r0 += o.batch) {
      const rows = await src.read(r0, Math.min(o.batch, src.rows - r0));
      if (rows instanceof Uint8Array) {
        index.add(rows);
      } else {
        const q = await engine.quantize(rows, { dim: src.dim, baseline });
        index.add(q.codes, undefined, o.keepVectors ? { vectors: rows } : {});
      }
      bar.tick(Math.min(src.rows, r0 + o.batch));
    }
    bar.end();
    await index.save(o.out);
    const secs = (performance.now() - t0) / 1000;
    console.log(`${o.out}: ${index.size} rows of ${src.dim} bits in ${secs.toFixed(2)} s${baseline ? ' (centred)' : ''}`);
    await index.close();
  } finally {
    await src.close();
    await engine.close();
  }
}

interface SearchFlags extends EngineFlags {
  index: string;
  queries: string;
  k: number;
  json?: boolean;
  rescore?: number;
  batch: number;
}

const asNumber = (l: bigint) => (l >= BigInt(Number.MIN_SAFE_INTEGER) && l <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(l) : l.toString());

async function searchAll(o: SearchFlags, engine: Engine, index: BinaryIndex, src: VectorFile): Promise<SearchResult & { seconds: number }> {
  const { k } = o;
  const labels = new BigInt64Array(src.rows * k);
  const distances = new Int32Array(src.rows * k);
  const scores = o.rescore !== undefined ? new Float32Array(src.rows * k) : undefined;
  const bar = progress('search', src.rows);
  let seconds = 0;
  for (let q0 = 0; q0 < src.rows; q0 += o.batch) {
    const rows = await src.read(q0, Math.min(o.batch, src.rows - q0));
    let codes: Uint8Array;
    let rescore: { vectors: Float32Array; candidates: number } | undefined;
    if (rows instanceof Uint8Array) {
      if (o.rescore !== undefined) throw new DsoError('INVALID_ARGUMENT', '--rescore needs float queries, not packed codes');
      codes = rows;
    } else {
      codes = (await engine.quantize(rows, { dim: index.dim, baseline: index.baseline })).codes;
      if (o.rescore !== undefined) rescore = { vectors: rows, candidates: o.rescore };
    }
    const t0 = performance.now();
    const r = await index.search(codes, { k, rescore });
    seconds += (performance.now() - t0) / 1000;
    labels.set(r.labels, q0 * k);
    distances.set(r.distances, q0 * k);
    if (scores && r.scores) scores.set(r.scores, q0 * k);
    bar.tick(Math.min(src.rows, q0 + o.batch));
  }
  bar.end();
  return { labels, distances, scores, seconds };
}

async function search(o: SearchFlags): Promise<void> {
  const engine = await engineFor(o);
  let index: BinaryIndex | undefined;
  let src: VectorFile | undefined;
  try {
    index = await BinaryIndex.load(o.index, { engine });
    src = await openVectors(o.queries, { dim: index.dim });
    noteConversion(src, o.queries);
    if (src.dim !== index.dim) throw new DsoError('DIM_MISMATCH', `the index has dim ${index.dim}, ${o.queries} has ${src.dim}`);
    const r = await searchAll(o, engine, index, src);
    const { k } = o;
    if (o.json) {
      const results = Array.from({ length: src.rows }, (_, q) => ({
        labels: Array.from(r.labels.subarray(q * k, q * k + k), asNumber),
        distances: Array.from(r.distances.subarray(q * k, q * k + k)),
        ...(r.scores ? { scores: Array.from(r.scores.subarray(q * k, q * k + k)) } : {}),
      }));
      console.log(JSON.stringify({ k, results }));
    } else {
      const rows: Array<Array<string | number>> = [];
      for (let q = 0; q < src.rows; q++) {
        for (let j = 0; j < k; j++) {
          const at = q * k + j;
          // Slots past the index's rows hold label -1: they are not results.
          if (r.distances[at] < 0) break;
          rows.push([q, j + 1, String(r.labels[at]), r.distances[at], ...(r.scores ? [r.scores[at].toFixed(4)] : [])]);
        }
      }
      const head = ['query', 'rank', 'label', 'distance', ...(r.scores ? ['cosine'] : [])];
      console.log(table(head, rows, ['right', 'right', 'right', 'right', 'right']));
      const order = r.scores ? `, ranked by cosine over ${o.rescore} Hamming candidates` : ', ranked by Hamming distance';
      console.log(`${rate(src.rows, 'queries', r.seconds)} over ${index.size.toLocaleString('en-US')} rows, top ${k}${order}`);
    }
  } finally {
    await src?.close();
    await index?.close();
    await engine.close();
  }
}

export function registerIndex(program: Command): void {
  const index = program.command('index').description('build a binary index of 1-bit codes from vectors, and search it');
  index
    .command('build')
    .description('pack float vectors (or read packed codes) into a BinaryIndex file')
    .requiredOption(
      '--input <file>',
      'vectors: .npy (float32, float64, or uint8 packed codes), .fvecs, .bvecs, .f32 (with --dim), .codes (with --dim)',
    )
    .requiredOption('--out <file>', 'the index file to write (atomically)')
    .option('--dim <n>', 'dimensions (bits for packed codes); required for raw .f32 and .codes files', int(1, 1 << 20))
    .option('--center', 'subtract the per-dimension mean of the first 100,000 rows before taking signs (default for .bvecs)')
    .option('--no-center', 'never centre')
    .option('--keep-vectors', 'keep the float vectors in the index for exact rescoring')
    .addOption(new Option('--batch <rows>', 'rows read and packed at a time').argParser(int(1)).default(65_536))
    .addOption(backendOption())
    .addOption(verboseOption())
    .addHelpText('after', '\nExample:\n  $ dso index build --input vectors.npy --out index.dso --keep-vectors')
    .action((o: BuildFlags) => build(o));
  index
    .command('search')
    .description('exact top-k Hamming search of every query in a file; a table, or JSON with --json')
    .requiredOption('--index <file>', 'an index written by dso index build')
    .requiredOption('--queries <file>', 'query vectors (same formats as build; floats are packed like the index)')
    .addOption(new Option('--k <n>', 'results per query').argParser(int(1, 100_000)).default(10))
    .option('--json', 'print {"k", "results": [{"labels", "distances", "scores"?}]} instead of a table')
    .option('--rescore <candidates>', 'rank this many Hamming candidates by cosine (stored vectors, else signs)', int(1, 100_000))
    .addOption(
      new Option('--batch <queries>', 'queries searched at a time (the progress bar moves per batch)').argParser(int(1)).default(4096),
    )
    .option('--threads <n>', 'worker threads for large searches (default: the core count)', int(1, 1024))
    .addOption(backendOption())
    .addOption(verboseOption())
    .addHelpText('after', '\nExample:\n  $ dso index search --index index.dso --queries q.npy --k 10 --rescore 100')
    .action((o: SearchFlags) => search(o));
}
