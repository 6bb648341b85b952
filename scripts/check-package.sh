#!/usr/bin/env bash
# What a user gets: packs the package, installs the tarball into a scratch
# project (building the addon there), and runs the engine, a pooled index
# search (the worker file must ship in dist/) and the CLI from it.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
tarball="$PWD/$(npm pack --silent --pack-destination "$scratch" | tail -1)"
cd "$scratch"
npm init -y >/dev/null
npm install --no-audit --no-fund "$scratch/$(basename "$tarball")" >/dev/null 2>&1
cat > check.mjs <<'JS'
import { BinaryIndex, createEngine } from 'dso-engine';
const e = await createEngine({ backend: 'native' });
const x = new Float32Array(64 * 256).map((_, i) => Math.sin(i));
const { codes } = await e.quantize(x, { dim: 256 });
const index = new BinaryIndex({ dim: 256, threads: 2, shardThreshold: 1 });
index.add(codes);
const r = await index.search(codes.subarray(0, 32 * 3), { k: 2 });
if (r.labels[0] !== 0n || r.labels[2] !== 1n || r.labels[4] !== 2n) throw new Error(`pooled search gave ${r.labels}`);
await index.close();
await e.close();
console.log(`package OK: ${e.info.backend}/${e.info.isa}, pooled search from dist`);
JS
node check.mjs
npx --no-install dso --help | head -1
