#!/usr/bin/env node
// tsc does not copy assets: the WGSL programs and the compiled contracts go beside their compiled TS.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const assets = [['gpu', '.wgsl']];
// The compiled contracts sit two levels above the modules that read them, in src/ and in dist/src/ alike.
assets.push(['../contracts/build', '.json']);
for (const [dir, ext] of assets) {
  const from = path.join(root, 'src', dir);
  const to = path.join(root, 'dist', 'src', dir);
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) if (f.endsWith(ext)) copyFileSync(path.join(from, f), path.join(to, f));
}
