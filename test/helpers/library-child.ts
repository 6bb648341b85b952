/**
 * Child process for the crash test: applies numbered batches to a library
 * until killed, printing each batch number after it commits. Batch b adds 40
 * experiences tagged { batch: b } and deletes one experience of batch b - 1,
 * so a half-applied batch would show as a partial tag set or a missing delete.
 */
import { ExperienceLibrary } from '../../src/experience/library.js';

const [file] = process.argv.slice(2);
const lib = await ExperienceLibrary.open({ path: file, capacity: 1_000_000, duplicateThreshold: 1 });
for (let b = 0; ; b++) {
  const prev = lib.list().filter((e) => e.metadata.batch === b - 1);
  await lib.applyOperations([
    ...(prev.length > 0 ? [{ op: 'delete' as const, id: prev[0].id }] : []),
    ...Array.from({ length: 40 }, (_, i) => ({
      op: 'add' as const,
      text: `When batch ${b} item ${i} arrives, store it with care number ${b * 40 + i}.`,
      metadata: { batch: b },
    })),
  ]);
  process.stdout.write(`${b}\n`);
}
