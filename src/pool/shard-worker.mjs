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

// Mappings of index files, made from the caller's descriptor (one inode for
// the whole process, so a worker maps exactly what the caller mapped) and
// keyed by the caller's unique mapping key. The last few are kept; older ones
// are dropped for the collector to unmap.
const mapped = new Map();
const KEEP = 4;

function source(a, codes, fd, mapKey) {
  if (codes) return codes;
  let m = mapped.get(mapKey);
  if (m) {
    mapped.delete(mapKey);
  } else {
    m = a.mapFile(fd);
    if (mapped.size >= KEEP) mapped.delete(mapped.keys().next().value);
  }
  mapped.set(mapKey, m);
  return m;
}

export default function searchShard({ addonPath, isa, codes, fd, mapKey, offset, bytesPerRow, rowStart, rowEnd, queries, dim, k }) {
  const a = addon(addonPath);
  const shard = new Uint8Array(source(a, codes, fd, mapKey), offset + rowStart * bytesPerRow, (rowEnd - rowStart) * bytesPerRow);
  const { ids, distances } = a.hammingTopK(shard, queries, dim, k, { isa });
  for (let i = 0; i < ids.length; i++) if (ids[i] >= 0) ids[i] += rowStart;
  return { ids, distances };
}
