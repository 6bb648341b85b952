// Piscina worker: exact Hamming top-k of a batch of queries over one shard of
// a code matrix shared through a SharedArrayBuffer (no copy per search).
// Plain JS so the same file runs from src/ and dist/. The addon is
// context-aware: each worker thread loads its own instance.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const addons = new Map();

function addon(path) {
  let a = addons.get(path);
  if (!a) {
    a = require(path);
    addons.set(path, a);
  }
  return a;
}

export default function searchShard({ addonPath, isa, codes, bytesPerRow, rowStart, rowEnd, queries, dim, k }) {
  const shard = new Uint8Array(codes, rowStart * bytesPerRow, (rowEnd - rowStart) * bytesPerRow);
  const { ids, distances } = addon(addonPath).hammingTopK(shard, queries, dim, k, { isa });
  for (let i = 0; i < ids.length; i++) if (ids[i] >= 0) ids[i] += rowStart;
  return { ids, distances };
}
