/**
 * dso index build --input FILE --out index.dso [--dim N] [--center] [--keep-vectors] [--batch ROWS] [--backend B]
 * dso index search --index index.dso --queries FILE --k 10 [--json] [--rescore CANDIDATES] [--backend B]
 *
 * --backend is the engine's (auto, native, webgpu, js): on webgpu the index
 * keeps its rows resident on the GPU and searches there.
 */
import { parseArgs } from 'node:util';

import { BinaryIndex } from '../binary-index/binary-index.js';
import { openVectors, type VectorFile } from '../binary-index/readers.js';
import { DsoError } from '../core/errors.js';
import { createEngine } from '../engine/create-engine.js';
import type { BackendChoice, Engine } from '../engine/types.js';
import { integer } from './args.js';
import { progress } from './progress.js';

// createEngine rejects an unknown name (BACKEND_UNAVAILABLE), so the flag is passed through as given.
const backendFlag = { type: 'string' } as const;
const backendOf = (v: string | undefined) => v as BackendChoice | undefined;

/** A GPU that failed mid-run leaves the results exact (the host reran the work); the user still hears why. */
function reportGpuFailure(engine: Engine): void {
  if (engine.info.gpuFailure) console.error(`dso: the GPU failed, the host finished the work: ${engine.info.gpuFailure}`);
}

/** Per-dimension mean of up to the first 100,000 rows: a baseline that centres the data. */
async function sampleMean(src: VectorFile): Promise<Float32Array> {
  const rows = Math.min(src.rows, 100_000);
  const x = (await src.read(0, rows)) as Float32Array;
  const mean = new Float64Array(src.dim);
  for (let r = 0; r < rows; r++) for (let j = 0; j < src.dim; j++) mean[j] += x[r * src.dim + j];
  return Float32Array.from(mean, (v) => v / Math.max(1, rows));
}

export async function indexBuild(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      input: { type: 'string' },
      out: { type: 'string' },
      dim: { type: 'string' },
      center: { type: 'boolean' },
      'keep-vectors': { type: 'boolean' },
      batch: { type: 'string' },
      backend: backendFlag,
    },
  });
  if (!values.input || !values.out) throw new DsoError('INVALID_ARGUMENT', 'usage: dso index build --input FILE --out index.dso [--dim N]');
  const src = await openVectors(values.input, { dim: values.dim === undefined ? undefined : integer(values.dim, 'dim') });
  const engine = await createEngine({ backend: backendOf(values.backend) }).catch(async (e: unknown) => {
    await src.close();
    throw e;
  });
  try {
    if (values.dim !== undefined && src.kind !== 'codes' && integer(values.dim, 'dim') !== src.dim) {
      throw new DsoError('DIM_MISMATCH', `--dim ${values.dim} but ${values.input} holds ${src.dim}-dimensional rows`);
    }
    const center = values.center ?? src.kind === 'uint8';
    if (src.kind === 'codes' && (center || values['keep-vectors'])) {
      throw new DsoError('INVALID_ARGUMENT', '--center and --keep-vectors need float vectors, not packed codes');
    }
    const baseline = center ? await sampleMean(src) : undefined;
    const index = new BinaryIndex({ dim: src.dim, engine, baseline });
    const batch = integer(values.batch, 'batch', 65_536);
    const bar = progress('build', src.rows);
    const t0 = performance.now();
    for (let r0 = 0; r0 < src.rows; r0 += batch) {
      const rows = await src.read(r0, Math.min(batch, src.rows - r0));
      if (rows instanceof Uint8Array) {
        index.add(rows);
      } else {
        const q = await engine.quantize(rows, { dim: src.dim, baseline });
        index.add(q.codes, undefined, values['keep-vectors'] ? { vectors: rows } : {});
      }
      bar.tick(Math.min(src.rows, r0 + batch));
    }
    bar.end();
    await index.save(values.out);
    const secs = (performance.now() - t0) / 1000;
    console.log(`${values.out}: ${index.size} rows of ${src.dim} bits in ${secs.toFixed(2)} s${baseline ? ' (centred)' : ''}`);
    await index.close();
    reportGpuFailure(engine);
  } finally {
    await src.close();
    await engine.close();
  }
}

export async function indexSearch(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      index: { type: 'string' },
      queries: { type: 'string' },
      k: { type: 'string' },
      json: { type: 'boolean' },
      rescore: { type: 'string' },
      threads: { type: 'string' },
      backend: backendFlag,
    },
  });
  if (!values.index || !values.queries) {
    throw new DsoError('INVALID_ARGUMENT', 'usage: dso index search --index index.dso --queries FILE --k 10 [--json]');
  }
  const k = integer(values.k, 'k', 10);
  const engine = await createEngine({
    backend: backendOf(values.backend),
    threads: values.threads ? integer(values.threads, 'threads') : undefined,
  });
  const index = await BinaryIndex.load(values.index, { engine }).catch(async (e: unknown) => {
    await engine.close();
    throw e;
  });
  const src = await openVectors(values.queries, { dim: index.dim });
  try {
    if (src.dim !== index.dim) throw new DsoError('DIM_MISMATCH', `the index has dim ${index.dim}, ${values.queries} has ${src.dim}`);
    const rows = await src.read(0, src.rows);
    let codes: Uint8Array;
    let rescore: { vectors: Float32Array; candidates: number } | undefined;
    if (rows instanceof Uint8Array) {
      if (values.rescore) throw new DsoError('INVALID_ARGUMENT', '--rescore needs float queries, not packed codes');
      codes = rows;
    } else {
      codes = (await engine.quantize(rows, { dim: index.dim, baseline: index.baseline })).codes;
      if (values.rescore) rescore = { vectors: rows, candidates: integer(values.rescore, 'rescore') };
    }
    const r = await index.search(codes, { k, rescore });
    const asNumber = (l: bigint) =>
      l >= BigInt(Number.MIN_SAFE_INTEGER) && l <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(l) : l.toString();
    const perQuery = Array.from({ length: src.rows }, (_, q) => ({
      labels: Array.from(r.labels.subarray(q * k, q * k + k), asNumber),
      distances: Array.from(r.distances.subarray(q * k, q * k + k)),
      ...(r.scores ? { scores: Array.from(r.scores.subarray(q * k, q * k + k)) } : {}),
    }));
    if (values.json) {
      console.log(JSON.stringify({ k, backend: engine.info.backend, results: perQuery }));
    } else {
      perQuery.forEach((p, q) => console.log(`${q}: ${p.labels.map((l, j) => `${l}:${p.distances[j]}`).join(' ')}`));
    }
    reportGpuFailure(engine);
  } finally {
    await src.close();
    await engine.close();
    await index.close();
  }
}
