/**
 * dso eval: a model server's accuracy on held-out problems with and without
 * experiences (a baseline, libraries, running nodes), with tokens, cost,
 * paired differences and their confidence intervals; results.json,
 * problems.jsonl (every answer, so an interrupted run resumes) and a chart.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { type Command, Option } from 'commander';

import { OpenAICompatibleChatModel } from '../../aso/models/openai-compatible.js';
import { writeChart } from '../../charts/render.js';
import { DsoError } from '../../core/errors.js';
import type { BackendChoice } from '../../engine/types.js';
import { accuracyChart } from '../../evaluate/chart.js';
import { type Condition, evaluate, type EvaluationReport } from '../../evaluate/evaluate.js';
import { librarySource, nodeSource } from '../../evaluate/sources.js';
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
import { table } from '../output.js';
import { type Progress, progress } from '../progress.js';

interface EvalFlags extends DatasetFlags, EmbedderFlags {
  modelUrl: string;
  model: string;
  samples: number;
  concurrency: number;
  baseline?: boolean;
  library: string[];
  namespace: string;
  node: string[];
  k: number;
  out: string;
  pricePrompt: number;
  priceCompletion: number;
  temperature?: number;
  maxTokens: number;
  timeoutMs: number;
  apiKeyEnv: string;
  fresh?: boolean;
  backend: BackendChoice;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function conditionNames(o: EvalFlags): string[] {
  const named = (kind: string, items: string[]) =>
    items.map((x) => (items.length === 1 ? kind : `${kind}:${kind === 'library' ? path.basename(x) : x.replace(/^https?:\/\//u, '')}`));
  return [...(o.baseline ? ['baseline'] : []), ...named('library', o.library), ...named('node', o.node)];
}

/** What makes two runs the same run: resuming mixes answers only when all of it agrees. */
function runIdentity(o: EvalFlags, problems: number) {
  return {
    model: o.model,
    modelUrl: o.modelUrl,
    data: path.resolve(o.data),
    format: o.format,
    split: o.split,
    testFraction: o.testFraction,
    seed: o.seed,
    problems,
    samples: o.samples,
    k: o.k,
    temperature: o.temperature ?? null,
    conditions: conditionNames(o),
    libraries: o.library.map((l) => path.resolve(l)),
    namespace: o.namespace,
    nodes: o.node,
  };
}

function checkResume(file: string, identity: object, records: string, fresh: boolean): void {
  if (fresh) {
    rmSync(records, { force: true });
    return;
  }
  let before: string;
  try {
    before = readFileSync(file, 'utf8');
  } catch {
    rmSync(records, { force: true });
    return;
  }
  if (before.trim() !== JSON.stringify(identity, null, 2))
    throw new DsoError(
      'INVALID_ARGUMENT',
      `${path.dirname(file)} holds the answers of a different run (${file} differs): pass --fresh to start over, or another --out`,
    );
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function printReport(r: EvaluationReport): void {
  const k = r.conditions[0].samples;
  console.log(
    table(
      [
        'condition',
        'problems',
        'samples',
        'pass@1',
        '95% CI',
        `pass@${k}`,
        'mean reward',
        'prompt tok',
        'completion tok',
        'cost $',
        'seconds',
      ],
      r.conditions.map((c) => [
        c.name,
        c.problems,
        c.samples,
        pct(c.passAt1),
        `${pct(c.passAt1Ci95[0])} - ${pct(c.passAt1Ci95[1])}`,
        pct(c.passAtK),
        c.meanReward.toFixed(3),
        c.tokens.prompt.toLocaleString('en-US'),
        c.tokens.completion.toLocaleString('en-US'),
        c.costUsd.toFixed(4),
        c.seconds.toFixed(1),
      ]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  for (const d of r.deltas) {
    const sign = d.passAt1 >= 0 ? '+' : '';
    console.log(
      `${d.to} vs ${d.from}: pass@1 ${sign}${(100 * d.passAt1).toFixed(1)} points ` +
        `(95% CI ${(100 * d.ci95[0]).toFixed(1)} to ${(100 * d.ci95[1]).toFixed(1)}, paired bootstrap over ${d.problems} problems)`,
    );
  }
}

async function runEval(o: EvalFlags): Promise<void> {
  if (!o.baseline && o.library.length === 0 && o.node.length === 0)
    throw new DsoError('INVALID_ARGUMENT', 'name at least one condition: --baseline, --library FILE or --node URL');
  const problems = loadProblems(o);
  mkdirSync(o.out, { recursive: true });
  const identity = runIdentity(o, problems.length);
  const recordFile = path.join(o.out, 'problems.jsonl');
  const runFile = path.join(o.out, 'run.json');
  checkResume(runFile, identity, recordFile, o.fresh === true);
  writeFileSync(runFile, `${JSON.stringify(identity, null, 2)}\n`);

  const model = new OpenAICompatibleChatModel({
    baseUrl: o.modelUrl,
    model: o.model,
    apiKeyEnv: o.apiKeyEnv,
    concurrency: o.concurrency,
    timeoutMs: o.timeoutMs,
    maxTokens: o.maxTokens,
    temperature: o.temperature,
  });
  const names = conditionNames(o);
  const libraries: ExperienceLibrary[] = [];
  try {
    const conditions: Condition[] = [];
    if (o.baseline) conditions.push({ name: 'baseline' });
    const embedder = o.library.length > 0 ? await embedderFromSpec(embedderSpec(o)) : undefined;
    for (const file of o.library) {
      const lib = await ExperienceLibrary.open({ path: file, namespace: o.namespace, embedder, backend: o.backend, capacity: 2 ** 31 - 1 });
      libraries.push(lib);
      conditions.push({ name: names[conditions.length], source: librarySource(lib) });
    }
    for (const url of o.node) conditions.push({ name: names[conditions.length], source: nodeSource(url, { timeoutMs: o.timeoutMs }) });

    const bars = new Map<string, Progress>();
    const report = await evaluate({
      model,
      problems,
      conditions,
      samples: o.samples,
      retrieveK: o.k,
      temperature: o.temperature,
      concurrency: o.concurrency,
      prices: { prompt: o.pricePrompt, completion: o.priceCompletion },
      recordFile,
      seed: o.seed,
      onProgress: (name, done, total) => {
        let bar = bars.get(name);
        if (bar === undefined) bars.set(name, (bar = progress(`eval ${name}`, total)));
        bar.tick(done);
        if (done === total) bar.end();
      },
    });
    printReport(report);
    const caption =
      `dso eval: ${o.model} on ${problems.length} ${o.split} problems of ${path.basename(o.data)} (${o.format}), ` +
      `${o.samples} sample${o.samples === 1 ? '' : 's'} each, ${o.k} experiences per prompt, seed ${o.seed}`;
    writeFileSync(path.join(o.out, 'results.json'), `${JSON.stringify({ run: identity, ...report }, null, 2)}\n`);
    await writeChart(path.join(o.out, 'accuracy'), accuracyChart(report.conditions, 'Accuracy with and without experiences', caption));
    console.log(`written: ${path.join(o.out, 'results.json')}, problems.jsonl and accuracy.svg/.png in ${o.out}/`);
  } finally {
    for (const lib of libraries) await lib.close();
  }
}

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('accuracy on held-out problems with and without experiences: pass@1, pass@k, tokens, cost, paired differences');
  addDatasetOptions(cmd, 'test')
    .requiredOption(
      '--model-url <url>',
      'an OpenAI-compatible server: llama.cpp server, vLLM, Ollama, OpenAI (e.g. http://127.0.0.1:8080/v1)',
    )
    .requiredOption('--model <name>', "the model's name on that server")
    .option('--baseline', 'a condition without experiences')
    .option('--library <file>', 'a condition with the experiences of this library (repeatable)', collect, [])
    .option('--namespace <name>', 'library namespace', 'default')
    .option('--node <url>', "a condition with the experiences a running node's POST /retrieve returns (repeatable)", collect, [])
    .addOption(new Option('--samples <k>', 'answers per problem and condition (pass@k)').argParser(int(1, 1024)).default(1))
    .addOption(new Option('--concurrency <n>', 'model requests in flight').argParser(int(1, 1024)).default(8))
    .addOption(new Option('--k <n>', 'experiences injected per prompt').argParser(int(1, 100)).default(10))
    .option('--out <dir>', 'results.json, problems.jsonl, run.json and the chart go here', 'eval-results')
    .option('--fresh', 'discard the answers of an earlier run in --out instead of resuming')
    .addOption(new Option('--price-prompt <usd>', 'US dollars per million prompt tokens').argParser(num(0, 1e6)).default(0))
    .addOption(new Option('--price-completion <usd>', 'US dollars per million completion tokens').argParser(num(0, 1e6)).default(0))
    .option('--temperature <t>', 'sampling temperature (default: the server default)', num(0, 2))
    .addOption(new Option('--max-tokens <n>', 'most completion tokens per answer').argParser(int(1, 1_000_000)).default(1024))
    .addOption(new Option('--timeout-ms <ms>', 'per request attempt').argParser(int(1, 3_600_000)).default(120_000))
    .option('--api-key-env <var>', 'environment variable holding the API key', 'OPENAI_API_KEY')
    .addOption(backendOption());
  addEmbedderOptions(cmd, 'the libraries (must be the one they were built with)')
    .addHelpText(
      'after',
      '\nExample:\n  $ dso eval --data gsm8k.jsonl --format gsm8k --split test --model-url http://127.0.0.1:8080/v1 --model qwen2.5-7b-instruct \\\n' +
        '      --baseline --library dso-library.db --samples 4 --out eval-results',
    )
    .action((o: EvalFlags) => runEval(o));
}
