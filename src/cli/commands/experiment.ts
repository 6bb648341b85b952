/**
 * dso experiment federated: nodes learn on shards of the training problems,
 * share through the DSO protocol (batches, signatures, registry votes, the
 * robust merge) and are evaluated on the held-out problems with no
 * experiences, their own, the shared ones, and a library learned centrally:
 * accuracy, communication and cost side by side.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { type Command, InvalidArgumentError, Option } from 'commander';

import { OpenAICompatibleChatModel } from '../../aso/models/openai-compatible.js';
import { writeChart } from '../../charts/render.js';
import type { BackendChoice } from '../../engine/types.js';
import { accuracyChart } from '../../evaluate/chart.js';
import { embedderFromSpec } from '../../experience/embedders/from-spec.js';
import { type Attack, ATTACKS } from '../../experiment/attacks.js';
import { type FederatedReport, runFederated } from '../../experiment/federated.js';
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

interface FederatedFlags extends DatasetFlags, EmbedderFlags {
  modelUrl: string;
  model: string;
  nodes: number;
  byzantine: number;
  attack: Attack;
  epochs: number;
  groupSize: number;
  samples: number;
  k: number;
  concurrency: number;
  acceptanceThreshold: number;
  votingThreshold: number;
  modelParams: number;
  pricePrompt: number;
  priceCompletion: number;
  timeoutMs: number;
  apiKeyEnv: string;
  temperature?: number;
  out: string;
  backend: BackendChoice;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

function printReport(r: FederatedReport, o: FederatedFlags): void {
  const honest = r.nodes.filter((x) => !x.byzantine).length;
  const nodeTokens = r.learning.nodes;
  const perNode = (t: { prompt: number; completion: number }) =>
    `${Math.round((t.prompt + t.completion) / honest).toLocaleString('en-US')}`;
  const rows = r.conditions.map((c) => {
    const comm =
      c.name === 'baseline' || c.name === 'own'
        ? '0'
        : c.name === 'central'
          ? 'all training data'
          : `${kb(r.communication.bytesSentPerNode)} sent, ${kb(r.communication.bytesReceivedPerNode)} received`;
    const learning =
      c.name === 'baseline'
        ? ['0', '0']
        : c.name === 'central'
          ? [(r.learning.central.prompt + r.learning.central.completion).toLocaleString('en-US'), r.learning.central.costUsd.toFixed(4)]
          : [perNode(nodeTokens), (nodeTokens.costUsd / honest).toFixed(4)];
    return [c.name, pct(c.passAt1), `${pct(c.passAt1Ci95[0])} - ${pct(c.passAt1Ci95[1])}`, pct(c.passAtK), comm, ...learning];
  });
  console.log(
    table(
      ['condition', 'pass@1', '95% CI', `pass@${o.samples}`, 'communication per node', 'learning tokens per node', 'learning cost $'],
      rows,
      ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  console.log(
    `communication: ${r.communication.batchesAccepted} of ${r.communication.batches} batches accepted; a node sent ${kb(r.communication.bytesSentPerNode)} ` +
      `and received ${kb(r.communication.bytesReceivedPerNode)}, where FedAvg would move ${(r.communication.fedAvgBytesPerNode / 2 ** 30).toFixed(2)} GiB each way per round ` +
      `(${o.modelParams.toExponential(1)} float32 parameters)`,
  );
  console.log(
    `robust merge: ${r.merge.accepted} experiences accepted (${r.merge.fromByzantineOnly} of them only from Byzantine nodes), ${r.merge.rejected} rejected`,
  );
  if (r.keptByHonest !== undefined)
    console.log(
      `with ${pct(o.byzantine)} Byzantine nodes (${o.attack}), the honest nodes keep ${pct(r.keptByHonest)} of the accuracy of sharing among themselves`,
    );
  console.log(
    `learning: ${nodeTokens.calls} model calls, ${nodeTokens.prompt.toLocaleString('en-US')} prompt + ${nodeTokens.completion.toLocaleString('en-US')} completion tokens on the nodes ($${nodeTokens.costUsd.toFixed(4)}); ` +
      `central: ${r.learning.central.prompt.toLocaleString('en-US')} + ${r.learning.central.completion.toLocaleString('en-US')} ($${r.learning.central.costUsd.toFixed(4)}); ${r.seconds.toFixed(1)} s`,
  );
}

async function federated(o: FederatedFlags): Promise<void> {
  const train = loadProblems(o, 'train');
  const test = loadProblems(o, 'test');
  mkdirSync(o.out, { recursive: true });
  const model = new OpenAICompatibleChatModel({
    baseUrl: o.modelUrl,
    model: o.model,
    apiKeyEnv: o.apiKeyEnv,
    concurrency: o.concurrency,
    timeoutMs: o.timeoutMs,
    temperature: o.temperature,
  });
  const embedder = await embedderFromSpec(embedderSpec(o));
  const bars = new Map<string, Progress>();
  try {
    const report = await runFederated({
      model,
      embedder,
      train,
      test,
      nodes: o.nodes,
      byzantine: o.byzantine,
      attack: o.attack,
      epochs: o.epochs,
      groupSize: o.groupSize,
      samples: o.samples,
      retrieveK: o.k,
      concurrency: o.concurrency,
      acceptanceThreshold: o.acceptanceThreshold,
      votingThreshold: o.votingThreshold,
      modelParams: o.modelParams,
      prices: { prompt: o.pricePrompt, completion: o.priceCompletion },
      backend: o.backend,
      seed: o.seed,
      onProgress: (stage, done, total) => {
        let bar = bars.get(stage);
        if (bar === undefined) bars.set(stage, (bar = progress(stage, total)));
        bar.tick(done);
        if (done === total) bar.end();
      },
    });
    printReport(report, o);
    const run = {
      model: o.model,
      data: path.resolve(o.data),
      format: o.format,
      trainProblems: train.length,
      testProblems: test.length,
      nodes: o.nodes,
      byzantine: o.byzantine,
      attack: o.attack,
      epochs: o.epochs,
      groupSize: o.groupSize,
      samples: o.samples,
      votingThreshold: o.votingThreshold,
      acceptanceThreshold: o.acceptanceThreshold,
      seed: o.seed,
    };
    writeFileSync(path.join(o.out, 'results.json'), `${JSON.stringify({ run, ...report }, null, 2)}\n`);
    const caption =
      `dso experiment federated: ${o.nodes} nodes (${pct(o.byzantine)} Byzantine${o.byzantine > 0 ? `, ${o.attack}` : ''}), ` +
      `${train.length} training and ${test.length} test problems of ${path.basename(o.data)}, ${o.model}, seed ${o.seed}`;
    await writeChart(path.join(o.out, 'accuracy'), accuracyChart(report.conditions, 'Federated: accuracy of the honest nodes', caption));
    console.log(`written: ${path.join(o.out, 'results.json')} and accuracy.svg/.png in ${o.out}/`);
  } finally {
    await embedder.close?.();
  }
}

export function registerExperiment(program: Command): void {
  const experiment = program.command('experiment').description('experiments that measure what sharing experiences is worth');
  const cmd = experiment
    .command('federated')
    .description('nodes learn on shards, share through the DSO protocol, and are evaluated without, with own and with shared experiences');
  addDatasetOptions(cmd)
    .requiredOption(
      '--model-url <url>',
      'an OpenAI-compatible server: llama.cpp server, vLLM, Ollama, OpenAI (e.g. http://127.0.0.1:8080/v1)',
    )
    .requiredOption('--model <name>', "the model's name on that server")
    .addOption(new Option('--nodes <n>', 'nodes the training problems are split across').argParser(int(2, 100)).default(4))
    .addOption(new Option('--byzantine <f>', 'fraction of Byzantine nodes, in [0, 0.5)').argParser(num(0, 0.49)).default(0))
    .addOption(
      new Option('--attack <name>', `what Byzantine nodes share: ${ATTACKS.join(', ')}`)
        .argParser((a) => {
          if (!ATTACKS.includes(a as Attack)) throw new InvalidArgumentError(`'${a}' is not one of ${ATTACKS.join(', ')}`);
          return a;
        })
        .default('sybil'),
    )
    .addOption(new Option('--epochs <n>', 'passes over each shard').argParser(int(1, 100)).default(1))
    .addOption(new Option('--group-size <n>', 'rollouts per training problem').argParser(int(2, 64)).default(4))
    .addOption(new Option('--samples <k>', 'answers per test problem and condition').argParser(int(1, 1024)).default(1))
    .addOption(new Option('--k <n>', 'experiences injected per prompt').argParser(int(1, 100)).default(10))
    .addOption(new Option('--concurrency <n>', 'model requests in flight').argParser(int(1, 1024)).default(8))
    .addOption(
      new Option('--acceptance-threshold <c>', 'nodes share experiences at or above this confidence').argParser(num(0, 1)).default(0.7),
    )
    .addOption(new Option('--voting-threshold <t>', 'support an experience needs in the robust merge').argParser(num(0, 1)).default(0.5))
    .addOption(
      new Option('--model-params <n>', 'parameters FedAvg would exchange instead (float32)').argParser(num(1, 1e13)).default(5e8, '5e8'),
    )
    .addOption(new Option('--price-prompt <usd>', 'US dollars per million prompt tokens').argParser(num(0, 1e6)).default(0))
    .addOption(new Option('--price-completion <usd>', 'US dollars per million completion tokens').argParser(num(0, 1e6)).default(0))
    .option('--temperature <t>', 'sampling temperature (default: the server default)', num(0, 2))
    .addOption(new Option('--timeout-ms <ms>', 'per request attempt').argParser(int(1, 3_600_000)).default(120_000))
    .option('--api-key-env <var>', 'environment variable holding the API key', 'OPENAI_API_KEY')
    .option('--out <dir>', 'results.json and the chart go here', 'experiment-results')
    .addOption(backendOption());
  addEmbedderOptions(cmd)
    .addHelpText(
      'after',
      '\nExample:\n  $ dso experiment federated --data gsm8k.jsonl --format gsm8k --model-url http://127.0.0.1:8080/v1 --model qwen2.5-7b-instruct \\\n' +
        '      --nodes 4 --byzantine 0.25 --attack sybil --samples 4 --out federated',
    )
    .action((o: FederatedFlags) => federated(o));
}
