/**
 * Child process for the file tests: opens `path` as a `kind` (key, index,
 * index-mmap, vectors) and prints the DsoError code it fails with, or 'ok'.
 * In a child because what it tests is that an open does not hang: a blocked
 * synchronous open would hang the test runner itself.
 */
import { BinaryIndex } from '../../src/binary-index/binary-index.js';
import { openVectors } from '../../src/binary-index/readers.js';
import { isDsoError } from '../../src/core/errors.js';
import { loadOrCreateNodeKey } from '../../src/network/identity.js';

const [kind, file] = process.argv.slice(2);
const open: Record<string, () => Promise<unknown>> = {
  key: async () => loadOrCreateNodeKey(file),
  index: () => BinaryIndex.load(file, { threads: 1 }),
  'index-mmap': () => BinaryIndex.load(file, { threads: 1, mmap: true }),
  vectors: () => openVectors(file, { dim: 8 }),
};
try {
  await open[kind]();
  process.stdout.write('ok\n');
} catch (e) {
  process.stdout.write(`${isDsoError(e) ? e.code : `untyped ${String(e)}`}\n`);
}
process.exit(0);
