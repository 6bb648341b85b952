/**
 * dso learn: the ActiveSemanticOptimizer over a JSON Lines dataset against an
 * OpenAI-compatible server; what it learns stays in the library.
 */
import { type Command, Option } from 'commander';

import { OpenAICompatibleChatModel } from '../../aso/models/openai-compatible.js';
import { addTokens, noTokens } from '../../aso/models/tokens.js';
import { ActiveSemanticOptimizer } from '../../aso/optimizer.js';
import type { BackendChoice } from '../../engine/types.js';
import { embedderFromSpec } from '../../experience/embedders/from-spec.js';
import { ExperienceLibrary } from '../../experience/library.js';
import {
  addDatasetOptions,
  addEmbedderOptions,
  type DatasetFlags,
  type EmbedderFlags,
  embedderSpec,
  loadProblems,
} from '../dataset-options.js';
import { backendOption, int, num } from '../options.js';
import { type Progress, progress } from '../progress.js';

interface LearnFlags extends DatasetFlags, EmbedderFlags {
  modelUrl: string;
  model: string;
  epochs: number;
  library: string;
  namespace: string;
  groupSize: number;
  maxOperations: number;
  batchSize?: number;
  log?: string;
  capacity: number;
  apiKeyEnv: string;
  concurrency: number;
  timeoutMs: number;
  temperature?: number;
  backend: BackendChoice;
}

function tokenLine(t: { prompt: number; completion: number; calls: number; unreported: number }): string {
  const missing = t.unreported > 0 ? ` (${t.unreported} without a usage report)` : '';
  return `${t.calls} model calls, ${t.prompt.toLocaleString('en-US')} prompt + ${t.completion.toLocaleString('en-US')} completion tokens${missing}`;
}

async function learn(o: LearnFlags): Promise<void> {
  const dataset = loadProblems(o);
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
    embedder: await embedderFromSpec(embedderSpec(o)),
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
    const total = noTokens();
    for (const s of summaries) {
      addTokens(total, s.tokens);
      console.log(
        `epoch ${s.epoch}: ${s.steps} problems, mean reward ${s.meanReward.toFixed(3)}, ${s.skipped} groups without a lesson, ` +
          `${s.operationsApplied} changes to the library (${s.duplicates} duplicates left out), library ${s.librarySize} experiences, ` +
          `${tokenLine(s.tokens)}`,
      );
    }
    console.log(`run: ${summaries.length} epochs, ${tokenLine(total)}`);
  } finally {
    aso.close();
    await library.close();
  }
}

export function registerLearn(program: Command): void {
  const cmd = program
    .command('learn')
    .description('learn experiences from a dataset with a model server (training-free GRPO); they stay in the library');
  addDatasetOptions(cmd, 'all')
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
    .addOption(new Option('--capacity <n>', 'most experiences the library keeps').argParser(int(1, 1_000_000)).default(200))
    .option('--api-key-env <var>', 'environment variable holding the API key', 'OPENAI_API_KEY')
    .addOption(new Option('--concurrency <n>', 'model requests in flight').argParser(int(1, 1024)).default(4))
    .addOption(new Option('--timeout-ms <ms>', 'per request attempt').argParser(int(1, 3_600_000)).default(120_000))
    .option('--temperature <t>', 'sampling temperature (default: the server default)', num(0, 2))
    .addOption(backendOption());
  addEmbedderOptions(cmd)
    .addHelpText(
      'after',
      '\nExample:\n  $ dso learn --data gsm8k-train.jsonl --format gsm8k --split train --model-url http://127.0.0.1:8080/v1 --model qwen2.5-7b-instruct --epochs 3',
    )
    .action((o: LearnFlags) => learn(o));
}
