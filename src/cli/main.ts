#!/usr/bin/env node
/** The `dso` command line. */
import { CommanderError } from 'commander';

import { DsoError } from '../core/errors.js';
import { buildProgram, isCleanExit, USAGE_ERROR } from './program.js';

const program = buildProgram();
const argv = process.argv.slice(2);
if (argv.length === 0) {
  program.outputHelp();
} else {
  program.parseAsync(argv, { from: 'user' }).catch((e: unknown) => {
    if (e instanceof CommanderError) {
      process.exitCode = isCleanExit(e) ? 0 : USAGE_ERROR;
    } else if (e instanceof DsoError) {
      console.error(`dso: ${e.code}: ${e.message}`);
      process.exitCode = USAGE_ERROR;
    } else {
      console.error(`dso: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = USAGE_ERROR;
    }
  });
}
