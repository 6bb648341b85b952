/** The dataset, split and embedder flags that dso learn, dso eval and dso experiment share, declared once. */
import { type Command, Option } from 'commander';

import { DATASET_FORMATS, type DatasetFormat, type DatasetProblem, readDataset, type Split, splitDataset } from '../aso/datasets.js';
import { DsoError } from '../core/errors.js';
import type { EmbedderSpec } from '../experience/embedders/from-spec.js';
import { int, num } from './options.js';

export interface DatasetFlags {
  data: string;
  format: DatasetFormat;
  questionField?: string;
  answerField?: string;
  split?: Split;
  testFraction: number;
  seed: number;
}

/** The dataset flags; with a default split, --split too (the experiment splits by itself and takes none). */
export function addDatasetOptions(cmd: Command, defaultSplit?: Split): Command {
  cmd
    .requiredOption('--data <file>', 'JSON Lines problems, one a line')
    .addOption(
      new Option(
        '--format <name>',
        'gsm8k (question, answer after ####), math (problem, answer or last \\boxed{} of solution), aime (problem, integer answer), jsonl (--question-field, --answer-field), auto (query|problem|question, groundTruth|answer)',
      )
        .choices(DATASET_FORMATS)
        .default('auto'),
    )
    .option('--question-field <name>', 'with --format jsonl: the field holding the question')
    .option('--answer-field <name>', 'with --format jsonl: the field holding the answer');
  if (defaultSplit !== undefined)
    cmd.addOption(
      new Option('--split <name>', 'which part of the data: train, test (a seeded held-out part) or all')
        .choices(['train', 'test', 'all'])
        .default(defaultSplit),
    );
  return cmd
    .addOption(
      new Option('--test-fraction <f>', 'share of the problems held out as the test split').argParser(num(0.01, 0.99)).default(0.2),
    )
    .addOption(new Option('--seed <n>', 'seed of the split (and of resampling)').argParser(int(0, 2 ** 31 - 1)).default(1));
}

/** The problems of the chosen split; an empty split is an error. */
export function loadProblems(o: DatasetFlags, split: Split = o.split ?? 'all'): DatasetProblem[] {
  const all = readDataset(o.data, { format: o.format, questionField: o.questionField, answerField: o.answerField });
  const out = splitDataset(all, split, { testFraction: o.testFraction, seed: o.seed });
  if (out.length === 0) throw new DsoError('INVALID_ARGUMENT', `the ${split} split of ${o.data} is empty (${all.length} problems)`);
  return out;
}

export interface EmbedderFlags {
  embedder: string;
  embedderUrl?: string;
  embedderModel?: string;
}

export function addEmbedderOptions(cmd: Command, what = 'the library'): Command {
  return cmd
    .option(
      '--embedder <spec>',
      `embedder of ${what}: 'hashing', a local transformers model directory, or 'openai' (a model server)`,
      'hashing',
    )
    .option('--embedder-url <url>', "with --embedder openai: the server's base URL (POST {url}/embeddings)")
    .option('--embedder-model <name>', 'with --embedder openai: the embedding model on that server');
}

export function embedderSpec(o: EmbedderFlags): EmbedderSpec {
  if (o.embedder !== 'openai') return o.embedder;
  if (o.embedderUrl === undefined || o.embedderModel === undefined)
    throw new DsoError('INVALID_ARGUMENT', '--embedder openai needs --embedder-url and --embedder-model');
  return { kind: 'openai', baseUrl: o.embedderUrl, model: o.embedderModel };
}
