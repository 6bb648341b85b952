/**
 * What a newcomer meets first: every command and subcommand answers --help
 * with its synopsis, its flags with their defaults and an example; an unknown
 * flag or command, or a value out of range, is one line naming it plus the
 * usage, exit status 2 and no stack trace.
 */
import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { buildProgram } from '../src/cli/program.js';

function dso(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** Every runnable command, as its argument path (['index', 'search'], ...). */
function leaves(): string[][] {
  const out: string[][] = [];
  const walk = (cmd: ReturnType<typeof buildProgram>, at: string[]) => {
    if (cmd.commands.length === 0) out.push(at);
    for (const sub of cmd.commands) walk(sub, [...at, sub.name()]);
  };
  walk(buildProgram(), []);
  return out;
}

describe('dso --help and usage errors', () => {
  const commands = leaves();

  it('knows every command the README documents', () => {
    expect(commands.map((c) => c.join(' ')).sort()).toEqual(
      [
        'eval',
        'experiment federated',
        'index build',
        'index search',
        'learn',
        'library export',
        'library import',
        'library list',
        'library search',
        'network down',
        'network status',
        'network up',
        'node',
        'registry add-member',
        'registry deploy',
        'registry finalize',
        'registry members',
        'registry propose',
        'registry remove-member',
        'registry status',
        'registry vote',
        'simulate',
      ].sort(),
    );
  });

  it.each(commands.map((c) => [c.join(' '), c]))('dso %s --help shows the synopsis, every flag and an example', (_, path) => {
    const r = dso(...path, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Usage: dso ${path.join(' ')}`);
    expect(r.stdout).toMatch(/\nExamples?:\n {2}\$ dso /u);
    expect(r.stderr).toBe('');
  });

  it('top-level and group help list the commands', () => {
    for (const args of [['--help'], [], ['index', '--help'], ['library', '--help'], ['experiment', '--help'], ['registry', '--help']]) {
      const r = dso(...args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Commands:/u);
    }
  });

  it.each([
    [
      ['index', 'search', '--index', 'a', '--queries', 'b', '--frob'],
      /^dso: unknown option '--frob'\nUsage: dso index search \[options\]\n/u,
    ],
    [['frobnicate'], /^dso: unknown command 'frobnicate'\nUsage: dso \[options\] \[command\]\n/u],
    [
      ['simulate', '--voting-threshold', '5'],
      /^dso: option '--voting-threshold <t>' argument '5' is invalid\. expected a number in \[0, 1\]\n/u,
    ],
    [
      ['simulate', '--attack', 'sign-flip,nope'],
      /^dso: option '--attack <list>' argument 'sign-flip,nope' is invalid\. 'nope' is not one of/u,
    ],
    [['index', 'search', '--index', 'a', '--queries', 'b', '--k', '0'], /^dso: option '--k <n>' argument '0' is invalid/u],
    [
      ['eval', '--data', 'd', '--model-url', 'u', '--model', 'm', '--samples', '0'],
      /^dso: option '--samples <k>' argument '0' is invalid\. expected an integer in \[1, 1024\]\n/u,
    ],
    [
      ['experiment', 'federated', '--data', 'd', '--model-url', 'u', '--model', 'm', '--attack', 'nuke'],
      /^dso: option '--attack <name>' argument 'nuke' is invalid\. 'nuke' is not one of sign-flip/u,
    ],
    [
      ['index', 'search', '--index', 'a', '--queries', 'b', '--backend', 'cuda'],
      /^dso: option '--backend <name>' argument 'cuda' is invalid/u,
    ],
  ])('refuses %j with one line, the usage and exit 2', (args, message) => {
    const r = dso(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /u); // no stack trace
    expect(r.stdout).toBe('');
  });

  it('takes the backend from DSO_BACKEND', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'index', 'search', '--index', 'a', '--queries', 'b'], {
      encoding: 'utf8',
      env: { ...process.env, DSO_BACKEND: 'cuda' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/value 'cuda' from env 'DSO_BACKEND' is invalid/u);
  });
});
