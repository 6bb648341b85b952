// Piscina worker of `dso simulate`: builds the batches of a slice of the
// simulated nodes. Plain JS so that it loads from dist/ (next to the compiled
// sim-nodes.js) and from src/ (sim-nodes.ts through tsx, in tests).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('./sim-nodes.js', import.meta.url);
const nodes = existsSync(fileURLToPath(compiled))
  ? await import(compiled.href)
  : await (await import('tsx/esm/api')).tsImport('./sim-nodes.ts', import.meta.url);

export default function run(task) {
  return nodes.buildNodeOutputs(task);
}
