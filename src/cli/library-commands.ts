/**
 * dso library list|search|export|import --library lib.db [--namespace NS] [--embedder hashing|MODEL_DIR]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { DsoError } from '../core/errors.js';
import { embedderFromSpec } from '../experience/embedders/from-spec.js';
import type { Experience } from '../experience/experience.js';
import { ExperienceLibrary } from '../experience/library.js';
import type { AddOperation } from '../experience/operations.js';
import { integer, required } from './args.js';
import { readJsonLines } from './jsonl.js';

const USAGE = `dso library list --library lib.db [--namespace NS] [--json]
  dso library search --library lib.db --query TEXT [--k 10] [--json]
  dso library export --library lib.db [--out experiences.jsonl]
  dso library import --library lib.db --in experiences.jsonl`;

/** What export writes per experience: everything but the vectors, which the importing embedder recomputes. */
function exported(e: Experience) {
  return {
    id: e.id,
    text: e.text,
    domain: e.domain,
    confidence: e.confidence,
    epoch: e.epoch,
    usageCount: e.usageCount,
    lastUsedEpoch: e.lastUsedEpoch,
    source: e.source,
    createdAt: e.createdAt,
    metadata: e.metadata,
  };
}

function readImport(file: string): AddOperation[] {
  return readJsonLines(file).map(({ value: o }) => ({
    op: 'add',
    text: o.text as string,
    ...(o.domain !== undefined ? { domain: o.domain as string } : {}),
    ...(o.confidence !== undefined ? { confidence: o.confidence as number } : {}),
    ...(o.source !== undefined ? { source: o.source as string } : {}),
    ...(o.metadata !== undefined ? { metadata: o.metadata as Record<string, unknown> } : {}),
  }));
}

export async function libraryCommand(command: string | undefined, argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      library: { type: 'string' },
      namespace: { type: 'string' },
      embedder: { type: 'string' },
      query: { type: 'string' },
      k: { type: 'string' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      in: { type: 'string' },
    },
  });
  if (!['list', 'search', 'export', 'import'].includes(command ?? ''))
    throw new DsoError('INVALID_ARGUMENT', `unknown library command '${command ?? ''}'\nusage: ${USAGE}`);
  const lib = await ExperienceLibrary.open({
    path: required(values.library, 'library', USAGE),
    namespace: values.namespace,
    embedder: await embedderFromSpec(values.embedder),
    // An import or listing must not evict: capacity applies to learning, not to moving libraries around.
    capacity: 2 ** 31 - 1,
  });
  try {
    if (command === 'list') {
      const all = lib.list();
      if (values.json) for (const e of all) console.log(JSON.stringify(exported(e)));
      else for (const e of all) console.log(`${e.id}  (${e.domain}, conf:${e.confidence.toFixed(2)}, used ${e.usageCount})  ${e.text}`);
      if (!values.json) console.log(`${all.length} experiences in '${lib.namespace}'`);
    } else if (command === 'search') {
      const found = await lib.retrieve(required(values.query, 'query', USAGE), { k: integer(values.k, 'k', 10), countUsage: false });
      if (values.json) for (const r of found) console.log(JSON.stringify({ similarity: r.similarity, ...exported(r.experience) }));
      else
        for (const r of found)
          console.log(`${r.similarity.toFixed(3)}  ${r.experience.id}  (${r.experience.domain})  ${r.experience.text}`);
    } else if (command === 'export') {
      const lines = lib
        .list()
        .map((e) => `${JSON.stringify(exported(e))}\n`)
        .join('');
      if (values.out === undefined) process.stdout.write(lines);
      else writeFileSync(values.out, lines);
    } else {
      const ops = readImport(required(values.in, 'in', USAGE));
      const r = await lib.applyOperations(ops);
      const folded = r.outcomes.filter((o) => o.status !== 'added').length;
      console.log(
        `imported ${r.added.length} experiences (${folded} already present or folded into near-duplicates); library holds ${r.size}`,
      );
    }
  } finally {
    await lib.close();
  }
}
