/**
 * The dso command: every subcommand declared once (commander), so help,
 * defaults and errors come from the same declaration. A bad flag or command
 * is one line naming it, the usage, and exit status 2; a DsoError from a
 * command is `dso: CODE: message`, also status 2.
 */
import { createRequire } from 'node:module';

import { Command, type CommanderError } from 'commander';

import { registerEval } from './commands/eval.js';
import { registerExperiment } from './commands/experiment.js';
import { registerIndex } from './commands/index.js';
import { registerLearn } from './commands/learn.js';
import { registerLibrary } from './commands/library.js';
import { registerNetwork } from './commands/network.js';
import { registerNode } from './commands/node.js';
import { registerRegistry } from './commands/registry.js';
import { registerSimulate } from './commands/simulate.js';

/** Exit status of every usage error and every DsoError. */
export const USAGE_ERROR = 2;

function version(): string {
  // The package's own name resolves from src/ and from dist/ alike (its exports list package.json).
  return (createRequire(import.meta.url)('dso-engine/package.json') as { version: string }).version;
}

function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Error output, usage after errors and the exit override, on every command (commander copies none of them down after creation). */
function configure(cmd: Command): void {
  const name = fullName(cmd);
  cmd
    .configureOutput({ outputError: (text, write) => write(`dso: ${text.replace(/^error: /u, '')}`) })
    .showHelpAfterError(`Usage: ${name} ${cmd.usage()}\nRun '${name} --help' for every flag.`)
    .exitOverride();
  for (const sub of cmd.commands) configure(sub);
}

export function buildProgram(): Command {
  const program = new Command('dso')
    .description('Decentralized Semantic Optimization: 1-bit embeddings, experience libraries, and nodes that learn together')
    .version(version(), '-V, --version')
    .addHelpCommand(false);
  registerIndex(program);
  registerLearn(program);
  registerEval(program);
  registerLibrary(program);
  registerSimulate(program);
  registerExperiment(program);
  registerNode(program);
  registerNetwork(program);
  registerRegistry(program);
  configure(program);
  return program;
}

/** Whether a CommanderError ended a run successfully (help or version printed). */
export function isCleanExit(e: CommanderError): boolean {
  return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
}
