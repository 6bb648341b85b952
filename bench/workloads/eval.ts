/**
 * EVAL: what dso eval costs besides the model. Against the stand-in model of
 * the tests (real HTTP on 127.0.0.1), evaluate() runs held-out problems with
 * a library of experiences: its own time per problem outside model calls
 * (retrieval, prompt, answer checking, the record line; target < 1 ms), and
 * whether --concurrency 32 keeps 32 requests in flight against a server that
 * answers after 50 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { readDataset } from '../../src/aso/datasets.js';
import { OpenAICompatibleChatModel } from '../../src/aso/models/openai-compatible.js';
import { evaluate } from '../../src/evaluate/evaluate.js';
import { librarySource } from '../../src/evaluate/sources.js';
import { ExperienceLibrary } from '../../src/experience/library.js';
import { startChatServer } from '../../test/helpers/chat-server.js';
import { FAMILIES, methodModel, methodProblems } from '../../test/helpers/method-model.js';
import type { Row } from '../lib/report.js';

export async function evalWorkload(problems: number): Promise<Row[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-bench-eval-'));
  const file = path.join(dir, 'problems.jsonl');
  writeFileSync(
    file,
    methodProblems(Math.ceil(problems / FAMILIES.length), 11)
      .map((p) => `${JSON.stringify(p)}\n`)
      .join(''),
  );
  const data = readDataset(file, { format: 'gsm8k' }).slice(0, problems);
  const library = await ExperienceLibrary.open();
  await library.add(FAMILIES.map((f) => ({ text: f.lesson, confidence: 0.9 })));
  const rows: Row[] = [];
  try {
    const fast = await startChatServer(methodModel());
    try {
      const model = new OpenAICompatibleChatModel({ baseUrl: fast.url, model: 'stand-in', concurrency: 8 });
      const run = () =>
        evaluate({
          model,
          problems: data,
          conditions: [{ name: 'library', source: librarySource(library) }],
          concurrency: 8,
          recordFile: path.join(dir, `r${Date.now()}.jsonl`),
        });
      await run();
      const r = (await run()).conditions[0];
      rows.push({
        workload: 'EVAL overhead',
        impl: 'evaluate(), library condition, stand-in over HTTP',
        size: `${data.length} problems, 1 sample, k 10`,
        seconds: r.seconds,
        throughput: r.overheadMsPerProblem,
        unit: 'ms/problem',
        note: `own time outside model calls (retrieval, prompt, answer check, record); target < 1 ms; ${(data.length / r.seconds).toFixed(0)} problems/s end to end`,
      });
    } finally {
      await fast.close();
    }
    const slow = await startChatServer(methodModel({ delayMs: 50 }));
    try {
      const n = Math.min(data.length, 320);
      const model = new OpenAICompatibleChatModel({ baseUrl: slow.url, model: 'stand-in', concurrency: 32 });
      const r = (await evaluate({ model, problems: data.slice(0, n), conditions: [{ name: 'baseline' }], concurrency: 32 })).conditions[0];
      rows.push({
        workload: 'EVAL concurrency',
        impl: 'evaluate(), --concurrency 32, server answers after 50 ms',
        size: `${n} problems`,
        seconds: r.seconds,
        throughput: n / r.seconds,
        unit: 'req/s',
        note: `${slow.maxInFlight} requests in flight at most (target 32); ideal ${(32 / 0.05).toFixed(0)} req/s`,
      });
    } finally {
      await slow.close();
    }
  } finally {
    await library.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
