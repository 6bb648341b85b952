/**
 * dso learn: the ActiveSemanticOptimizer over a JSON Lines dataset against an
 * OpenAI-compatible server; what it learns stays in the library.
 */
import { type Command, Option } from 'commander';

import { OpenAICompatibleChatModel } from '../../aso/models/openai-compatible.js';
import { ActiveSemanticOptimizer, type Problem } from '../../aso/optimizer.js';
import { DsoError } from '../../core/errors.js';
import type { BackendChoice } from '../../engine/types.js';
import { embedderFromSpec } from '../../experience/embedders/from-spec.js';
import { ExperienceLibrary } from '../../experience/library.js';
import { readJsonLines } from '../jsonl.js';
import { backendOption, int, num } from '../options.js';
import { type Progress, progress } from '../progress.js';

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

interface LearnFlags {
  data: string;
  modelUrl: string;
  model: string;
  epochs: number;
  library: string;
  namespace: string;
  groupSize: number;
  maxOperations: number;
  batchSize?: number;
  log?: string;
  embedder: string;
  capacity: number;
  apiKeyEnv: string;
  concurrency: number;
  timeoutMs: number;
  temperature?: number;
  backend: BackendChoice;
}

async function learn(o: LearnFlags): Promise<void> {
  const dataset = readProblems(o.data);
  const model = new OpenAICompatibleChatModel({
    baseUrl: o.modelUrl,
    model: o.model,
    apiKeyEnv: o.apiKeyEnv,
    concurrency: o.concurrency,
    timeoutMs: o.timeoutMs,
    temperature: o.temperature,
  });
  const library = await ExperienceLibrary.open({
    path: o.library,
    namespace: o.namespace,
    embedder: await embedderFromSpec(o.embedder),
    capacity: o.capacity,
    backend: o.backend,
  });
  const aso = new ActiveSemanticOptimizer({ library, model, groupSize: o.groupSize, maxOperations: o.maxOperations, resultLog: o.log });
  try {
    let bar: Progress | undefined;
    const summaries = await aso.epoch({
      dataset,
      epochs: o.epochs,
      batchSize: o.batchSize,
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

export function registerLearn(program: Command): void {
  program
    .command('learn')
    .description('learn experiences from a dataset with a model server (training-free GRPO); they stay in the library')
    .requiredOption('--data <file>', 'JSON Lines: {"query" | "problem" | "question", "groundTruth" | "answer", "domain"?} per line')
    .requiredOption(
      '--model-url <url>',
      'an OpenAI-compatible server: llama.cpp server, vLLM, Ollama, OpenAI (e.g. http://127.0.0.1:8080/v1)',
    )
    .requiredOption('--model <name>', "the model's name on that server")
    .addOption(new Option('--epochs <n>', 'passes over the dataset').argParser(int(1, 1000)).default(3))
    .option('--library <file>', 'the SQLite library to learn into', 'dso-library.db')
    .option('--namespace <name>', 'library namespace', 'default')
    .addOption(new Option('--group-size <n>', 'rollouts per problem').argParser(int(2, 64)).default(5))
    .addOption(new Option('--max-operations <n>', 'library operations proposed per group').argParser(int(1, 100)).default(3))
    .option('--batch-size <n>', 'problems between consolidations (default: one epoch)', int(1))
    .option('--log <file>', 'append one JSON line per step (rewards, proposals, timings)')
    .option('--embedder <spec>', "'hashing', or a local transformers model directory", 'hashing')
    .addOption(new Option('--capacity <n>', 'most experiences the library keeps').argParser(int(1, 1_000_000)).default(200))
    .option('--api-key-env <var>', 'environment variable holding the API key', 'OPENAI_API_KEY')
    .addOption(new Option('--concurrency <n>', 'model requests in flight').argParser(int(1, 1024)).default(4))
    .addOption(new Option('--timeout-ms <ms>', 'per request attempt').argParser(int(1, 3_600_000)).default(120_000))
    .option('--temperature <t>', 'sampling temperature (default: the server default)', num(0, 2))
    .addOption(backendOption())
    .addHelpText(
      'after',
      '\nExample:\n  $ dso learn --data problems.jsonl --model-url http://127.0.0.1:8080/v1 --model qwen2.5-7b-instruct --epochs 3',
    )
    .action((o: LearnFlags) => learn(o));
}
