/**
 * Child process for the shared-library test: adds `count` distinct
 * experiences to the library file in batches of `batch`, then prints how many
 * its batches reported added, as JSON. Folding is off so every text is new.
 */
import { ExperienceLibrary } from '../../src/experience/library.js';

const [file, tag, count, batch] = process.argv.slice(2);
const lib = await ExperienceLibrary.open({ path: file, capacity: 1_000_000, duplicateThreshold: 1 });
let added = 0;
for (let s = 0; s < Number(count); s += Number(batch)) {
  const items = Array.from({ length: Math.min(Number(batch), Number(count) - s) }, (_, i) => ({
    text: `When writer ${tag} reaches item ${s + i}, record it under ${tag}-${s + i}.`,
    metadata: { writer: tag },
  }));
  added += (await lib.add(items)).added.length;
}
await lib.close();
process.stdout.write(`${JSON.stringify({ added })}\n`);
