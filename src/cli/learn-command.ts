/**
 * dso learn --data problems.jsonl --model-url URL --model NAME [--epochs 3] [--library lib.db] ...
 * Runs the ActiveSemanticOptimizer over a JSONL dataset against an
 * OpenAI-compatible server and keeps what it learns in the library.
 */
import { parseArgs } from 'node:util';

import { OpenAICompatibleChatModel } from '../aso/models/openai-compatible.js';
import { ActiveSemanticOptimizer, type Problem } from '../aso/optimizer.js';
import { DsoError } from '../core/errors.js';
import { embedderFromSpec } from '../experience/embedders/from-spec.js';
import { ExperienceLibrary } from '../experience/library.js';
import { integer, required } from './args.js';
import { readJsonLines } from './jsonl.js';
import { progress } from './progress.js';

const USAGE =
  'dso learn --data problems.jsonl --model-url http://127.0.0.1:8080/v1 --model NAME [--epochs 3] [--library lib.db] [--namespace NS]\n' +
  '          [--group-size 5] [--max-operations 3] [--batch-size N] [--log results.jsonl] [--embedder hashing|MODEL_DIR]\n' +
  '          [--capacity 200] [--api-key-env OPENAI_API_KEY] [--concurrency 4] [--timeout-ms 120000] [--temperature 0.7]';

/** One problem per line: {"query" (or "problem", "question"), "groundTruth" (or "answer"), "domain"?}. */
export function readProblems(file: string): Problem[] {
  const out = readJsonLines(file).map(({ where, value: o }): Problem => {
    const query = o.query ?? o.problem ?? o.question;
    const truth = o.groundTruth ?? o.answer;
    if (typeof query !== 'string' || query === '') throw new DsoError('INVALID_ARGUMENT', `${where}: needs a "query" string`);
    if (typeof truth !== 'string' && typeof truth !== 'number')
      throw new DsoError('INVALID_ARGUMENT', `${where}: needs a "groundTruth" string`);
    if (o.domain !== undefined && typeof o.domain !== 'string')
      throw new DsoError('INVALID_ARGUMENT', `${where}: "domain" must be a string`);
    return { query, groundTruth: String(truth), ...(o.domain !== undefined ? { domain: o.domain } : {}) };
  });
  if (out.length === 0) throw new DsoError('INVALID_ARGUMENT', `${file} holds no problems`);
  return out;
}

export async function learn(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      'model-url': { type: 'string' },
      model: { type: 'string' },
      epochs: { type: 'string' },
      library: { type: 'string' },
      namespace: { type: 'string' },
      'group-size': { type: 'string' },
      'max-operations': { type: 'string' },
      'batch-size': { type: 'string' },
      log: { type: 'string' },
      embedder: { type: 'string' },
      capacity: { type: 'string' },
      'api-key-env': { type: 'string' },
      concurrency: { type: 'string' },
      'timeout-ms': { type: 'string' },
      temperature: { type: 'string' },
    },
  });
  const dataset = readProblems(required(values.data, 'data', USAGE));
  const temperature = values.temperature === undefined ? undefined : Number(values.temperature);
  if (temperature !== undefined && !(temperature >= 0 && temperature <= 2))
    throw new DsoError('INVALID_ARGUMENT', `--temperature must be in [0, 2], got '${values.temperature}'`);
  const model = new OpenAICompatibleChatModel({
    baseUrl: required(values['model-url'], 'model-url', USAGE),
    model: required(values.model, 'model', USAGE),
    apiKeyEnv: values['api-key-env'],
    concurrency: integer(values.concurrency, 'concurrency', 4),
    timeoutMs: integer(values['timeout-ms'], 'timeout-ms', 120_000),
    temperature,
  });
  const epochs = integer(values.epochs, 'epochs', 3);
  const library = await ExperienceLibrary.open({
    path: values.library ?? 'dso-library.db',
    namespace: values.namespace,
    embedder: await embedderFromSpec(values.embedder),
    capacity: integer(values.capacity, 'capacity', 200),
  });
  const aso = new ActiveSemanticOptimizer({
    library,
    model,
    groupSize: integer(values['group-size'], 'group-size', 5, 2),
    maxOperations: integer(values['max-operations'], 'max-operations', 3),
    resultLog: values.log,
  });
  try {
    let bar: ReturnType<typeof progress> | undefined;
    const summaries = await aso.epoch({
      dataset,
      epochs,
      batchSize: values['batch-size'] === undefined ? undefined : integer(values['batch-size'], 'batch-size'),
      onProgress: (p) => {
        if (p.done === 1) bar = progress(`epoch ${p.epoch}/${p.epochs}`, p.total);
        bar?.tick(p.done);
        if (p.done === p.total) bar?.end();
      },
    });
    for (const s of summaries) {
      console.log(
        `epoch ${s.epoch}: ${s.steps} problems, mean reward ${s.meanReward.toFixed(3)}, ${s.skipped} groups without a lesson, ` +
          `${s.operationsApplied} operations applied, library ${s.librarySize} experiences`,
      );
    }
  } finally {
    aso.close();
    await library.close();
  }
}
