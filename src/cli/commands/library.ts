/** dso library list | search | export | import: a persisted experience library from the command line. */
import { writeFileSync } from 'node:fs';

import { type Command, Option } from 'commander';

import { readJsonLines } from '../../core/jsonl.js';
import type { BackendChoice } from '../../engine/types.js';
import { embedderFromSpec } from '../../experience/embedders/from-spec.js';
import type { Experience } from '../../experience/experience.js';
import { ExperienceLibrary } from '../../experience/library.js';
import type { AddOperation } from '../../experience/operations.js';
import { backendOption, int, num } from '../options.js';
import { table } from '../output.js';

interface LibraryFlags {
  library: string;
  namespace: string;
  embedder: string;
  backend: BackendChoice;
}

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

async function withLibrary(o: LibraryFlags, fn: (lib: ExperienceLibrary) => Promise<void>): Promise<void> {
  const lib = await ExperienceLibrary.open({
    path: o.library,
    namespace: o.namespace,
    embedder: await embedderFromSpec(o.embedder),
    // An import or listing must not evict: capacity applies to learning, not to moving libraries around.
    capacity: 2 ** 31 - 1,
    backend: o.backend,
  });
  try {
    await fn(lib);
  } finally {
    await lib.close();
  }
}

function libraryCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .requiredOption('--library <file>', 'the SQLite library file')
    .option('--namespace <name>', 'library namespace', 'default')
    .option('--embedder <spec>', "'hashing', or a local transformers model directory (must be the library's)", 'hashing')
    .addOption(backendOption());
}

export function registerLibrary(program: Command): void {
  const library = program.command('library').description('list, search, export and import the experiences of a library');
  libraryCommand(library, 'list', 'every experience, newest last')
    .option('--json', 'one JSON object per line')
    .addHelpText('after', '\nExample:\n  $ dso library list --library lib.db --namespace math')
    .action((o: LibraryFlags & { json?: boolean }) =>
      withLibrary(o, async (lib) => {
        const all = lib.list();
        if (o.json) {
          for (const e of all) console.log(JSON.stringify(exported(e)));
          return;
        }
        const rows = all.map((e) => [e.id, e.domain, e.confidence.toFixed(2), e.usageCount, e.text]);
        if (rows.length > 0) console.log(table(['id', 'domain', 'confidence', 'uses', 'text'], rows));
        console.log(`${all.length} experiences in '${lib.namespace}'`);
      }),
    );
  libraryCommand(library, 'search', 'the experiences closest to a query (1-bit search, then exact cosine)')
    .requiredOption('--query <text>', 'what to look for')
    .addOption(new Option('--k <n>', 'most results').argParser(int(1, 10_000)).default(10))
    .addOption(
      new Option('--min-similarity <s>', "leave out results below this cosine (default: the embedder's floor; none for hashing)").argParser(
        num(-1, 1),
      ),
    )
    .option('--json', 'one JSON object per line')
    .addHelpText('after', "\nExample:\n  $ dso library search --library lib.db --query 'solve 3x + 2 = x + 6' --k 5")
    .action((o: LibraryFlags & { query: string; k: number; minSimilarity?: number; json?: boolean }) =>
      withLibrary(o, async (lib) => {
        const floor = o.minSimilarity ?? lib.defaultMinSimilarity;
        const found = await lib.retrieve(o.query, { k: o.k, minSimilarity: floor, countUsage: false });
        if (o.json) {
          for (const r of found) console.log(JSON.stringify({ similarity: r.similarity, ...exported(r.experience) }));
          return;
        }
        const rows = found.map((r) => [r.similarity.toFixed(3), r.experience.id, r.experience.domain, r.experience.text]);
        if (rows.length > 0) console.log(table(['cosine', 'id', 'domain', 'text'], rows));
        console.log(`${found.length} experiences${floor > -1 ? ` at or above cosine ${floor}` : ''}`);
      }),
    );
  libraryCommand(library, 'export', 'every experience as JSON Lines (text and metadata; vectors are recomputed on import)')
    .option('--out <file>', 'write here instead of standard output')
    .addHelpText('after', '\nExample:\n  $ dso library export --library lib.db --out experiences.jsonl')
    .action((o: LibraryFlags & { out?: string }) =>
      withLibrary(o, async (lib) => {
        const lines = lib
          .list()
          .map((e) => `${JSON.stringify(exported(e))}\n`)
          .join('');
        if (o.out === undefined) process.stdout.write(lines);
        else writeFileSync(o.out, lines);
      }),
    );
  libraryCommand(library, 'import', 'add the experiences of a JSON Lines file as one atomic batch')
    .requiredOption('--in <file>', 'JSON Lines as written by export ({"text", "domain"?, "confidence"?, ...} per line)')
    .addHelpText('after', '\nExample:\n  $ dso library import --library lib.db --namespace copy --in experiences.jsonl')
    .action((o: LibraryFlags & { in: string }) =>
      withLibrary(o, async (lib) => {
        const r = await lib.applyOperations(readImport(o.in));
        const folded = r.outcomes.filter((x) => x.status !== 'added').length;
        console.log(
          `imported ${r.added.length} experiences (${folded} already present or folded into near-duplicates); library holds ${r.size}`,
        );
      }),
    );
}
