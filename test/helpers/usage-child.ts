/** Retrieves from a library, waits for the usage log to be written, then hangs until killed (never closing it). */
import { ExperienceLibrary } from '../../src/experience/library.js';

const [file, query] = process.argv.slice(2);
const lib = await ExperienceLibrary.open({ path: file });
await lib.retrieve(query, { k: 1 });
await lib.retrieve(query, { k: 1 });
setTimeout(() => process.stdout.write('flushed\n'), 400);
setInterval(() => undefined, 1000);
