#!/usr/bin/env node
// clang-format over the native sources and the C peer of the benchmark:
// checks (the default, part of `npm run lint`) or rewrites them (`--fix`).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** @param {string} dir @returns {string[]} */
function sources(dir) {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(h|cc|c)$/.test(e.name))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

const files = [...sources('native'), ...sources('bench/peers')];
const args = process.argv.includes('--fix') ? ['-i', ...files] : ['--dry-run', '--Werror', ...files];
const r = spawnSync('clang-format', args, { cwd: root, stdio: 'inherit' });
if (r.error) {
  console.error(`clang-format could not run (${r.error.message}); install it: apt-get install clang-format`);
  process.exit(2);
}
process.exit(r.status ?? 1);
