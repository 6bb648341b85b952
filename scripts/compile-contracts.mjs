#!/usr/bin/env node
// Compiles contracts/*.sol with solc (npm, the pinned compiler) into
// contracts/build/<Name>.json ({ abi, bytecode }); run by `npm run build`.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import solc from 'solc';

/**
 * The part of solc's API used here (its typings make it all `any`) and of
 * the standard-JSON output read back.
 * @typedef {{ compile(input: string): string; version(): string }} Solc
 * @typedef {{ severity: string; formattedMessage: string }} SolcError
 * @typedef {{ abi: unknown[]; evm: { bytecode: { object: string } } }} SolcContract
 * @typedef {{ errors?: SolcError[]; contracts: Record<string, Record<string, SolcContract>> }} SolcOutput
 */
/** @type {Solc} */
const compiler = solc;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'contracts');
const sources = Object.fromEntries(
  readdirSync(dir)
    .filter((f) => f.endsWith('.sol'))
    .map((f) => [f, { content: readFileSync(path.join(dir, f), 'utf8') }]),
);
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
/** @type {unknown} */
const parsed = JSON.parse(compiler.compile(JSON.stringify(input)));
const out = /** @type {SolcOutput} */ (parsed);
const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
for (const e of out.errors ?? []) console.error(e.formattedMessage);
if (errors.length > 0) process.exit(1);
mkdirSync(path.join(dir, 'build'), { recursive: true });
for (const [file, contracts] of Object.entries(out.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    const artifact = {
      contractName: name,
      sourceName: file,
      compiler: compiler.version(),
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
    };
    writeFileSync(path.join(dir, 'build', `${name}.json`), `${JSON.stringify(artifact, null, 2)}\n`);
    console.log(`contracts/build/${name}.json (solc ${compiler.version()})`);
  }
}
