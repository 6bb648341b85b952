#!/usr/bin/env bash
# What a user gets: packs the package, installs the tarball into a scratch
# project (building the addon and better-sqlite3 there), and runs the engine,
# a sharded index search (the engine's worker file must ship in dist/), a persisted
# experience library, the registry contract on the in-process EVM (the
# compiled contract must ship) and the CLI from it. @huggingface/transformers is an
# optional peer and is not installed here.
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
import { ExperienceLibrary, TransformersEmbedder } from 'dso-engine/experience';
const e = await createEngine({ backend: 'native' });
const x = new Float32Array(64 * 256).map((_, i) => Math.sin(i));
const { codes } = await e.quantize(x, { dim: 256 });
const index = new BinaryIndex({ dim: 256, threads: 2, shardThreshold: 1 });
index.add(codes);
const r = await index.search(codes.subarray(0, 32 * 3), { k: 2 });
if (r.labels[0] !== 0n || r.labels[2] !== 1n || r.labels[4] !== 2n) throw new Error(`sharded search gave ${r.labels}`);
await index.close();
await e.close();
const lib = await ExperienceLibrary.open({ path: 'lib.db' });
await lib.add({ text: 'When a package is installed, check that it works.', domain: 'ops', confidence: 0.9 });
await lib.close();
const again = await ExperienceLibrary.open({ path: 'lib.db' });
if (again.size !== 1) throw new Error('library not persisted');
await again.close();
const missing = await TransformersEmbedder.load({}).then(() => 'loaded', (err) => err.code);
if (missing !== 'EMBEDDER_UNAVAILABLE') throw new Error(`transformers without its package gave ${missing}`);
console.log(`package OK: ${e.info.backend}/${e.info.isa}, sharded search from dist, SQLite library`);
JS
node check.mjs
cat > check-network.mjs <<'JS'
import { identityFromKey, RegistryClient, startInProcessChain } from 'dso-engine/network';
const chain = await startInProcessChain();
const id = identityFromKey('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
await chain.fund(id.address, 10n ** 19n);
const reg = await RegistryClient.deploy(chain, id, { votingPeriod: 60, members: [id.address] });
// The only member's submission is its yes, and one of one decides at once.
const batch = await reg.submitBatch(`0x${'11'.repeat(32)}`, 'bafyreiexample', 1);
if ((await reg.getBatch(batch)).status !== 'accepted') throw new Error('registry from the package did not accept');
await chain.close();
console.log('package OK: dso-engine/network, compiled registry on the in-process EVM');
JS
node check-network.mjs
npx --no-install dso --help | head -1
npx --no-install dso library list --library lib.db | tail -1
