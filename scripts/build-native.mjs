#!/usr/bin/env node
// Builds the addon with cmake-js (the primary build). Run by `npm install`;
// `--force` rebuilds from scratch. node-gyp builds the same sources from
// binding.gyp (`npm run build:native:gyp`).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

if (process.argv.includes('--force')) rmSync(path.join(root, 'build'), { recursive: true, force: true });

const cli = require.resolve('cmake-js/bin/cmake-js');
const r = spawnSync(process.execPath, [cli, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('dso-engine: building the native addon failed (cmake >= 3.19 and a C++17 compiler are required).');
  process.exit(r.status ?? 1);
}
