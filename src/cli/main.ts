#!/usr/bin/env node
/** The `dso` command. Errors print as `dso: CODE: message` and exit with status 2. */
import { DsoError } from '../core/errors.js';
import { indexBuild, indexSearch } from './index-commands.js';
import { learn } from './learn-command.js';
import { libraryCommand } from './library-commands.js';
import { nodeCommand } from './node-command.js';
import { simulateCommand } from './simulate-command.js';

const USAGE = `usage:
  dso index build --input vectors.npy|.fvecs|.bvecs|.f32|.codes --out index.dso [--dim N] [--center] [--keep-vectors] [--backend B]
  dso index search --index index.dso --queries q.npy --k 10 [--json] [--rescore CANDIDATES] [--backend auto|native|webgpu|js]
  dso learn --data problems.jsonl --model-url http://127.0.0.1:8080/v1 --model NAME [--epochs 3] [--library lib.db]
  dso library list|search|export|import --library lib.db [--namespace NS] [--query TEXT] [--out|--in FILE]
  dso simulate --nodes 100[,1000] --byzantine 0.3[,0.1] --attack sign-flip|random|sybil|spam|collusion|all --rounds 10 [--out DIR]
  dso node [--config dso.config.json|.toml] [--port 8787] [--data-dir DIR] [--peers ADDR,...] [--rpc-url URL] [--model-url URL --model NAME]`;

async function main(argv: string[]): Promise<void> {
  const [group, command, ...rest] = argv;
  if (group === 'index' && command === 'build') return indexBuild(rest);
  if (group === 'index' && command === 'search') return indexSearch(rest);
  if (group === 'learn') return learn(argv.slice(1));
  if (group === 'library') return libraryCommand(command, rest);
  if (group === 'node') return nodeCommand(argv.slice(1));
  if (group === 'simulate') return simulateCommand(argv.slice(1));
  if (group === undefined || group === '--help' || group === 'help') {
    console.log(USAGE);
    return;
  }
  throw new DsoError('INVALID_ARGUMENT', `unknown command '${argv.join(' ')}'\n${USAGE}`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof DsoError) console.error(`dso: ${e.code}: ${e.message}`);
  else console.error(`dso: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 2;
});
