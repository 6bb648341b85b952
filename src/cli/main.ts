#!/usr/bin/env node
/** The `dso` command. Errors print as `dso: CODE: message` and exit with status 2. */
import { DsoError } from '../errors.js';
import { indexBuild, indexSearch } from './index-commands.js';

const USAGE = `usage:
  dso index build --input vectors.npy|.fvecs|.bvecs|.f32|.codes --out index.dso [--dim N] [--center] [--keep-vectors]
  dso index search --index index.dso --queries q.npy --k 10 [--json] [--rescore CANDIDATES]`;

async function main(argv: string[]): Promise<void> {
  const [group, command, ...rest] = argv;
  if (group === 'index' && command === 'build') return indexBuild(rest);
  if (group === 'index' && command === 'search') return indexSearch(rest);
  if (group === undefined || group === '--help' || group === 'help') {
    console.log(USAGE);
    return;
  }
  throw new DsoError('INVALID_ARGUMENT', `unknown command '${argv.join(' ')}'\n${USAGE}`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof DsoError) console.error(`dso: ${e.code}: ${e.message}`);
  else console.error(`dso: ${(e as Error).stack ?? e}`);
  process.exitCode = 2;
});
