/**
 * The module a worker thread runs, given beside the caller's, as pool
 * options: the compiled .js in dist/, or, when the caller itself runs from
 * src/ (tests, the benchmark) where no .js exists, the TypeScript source
 * through tsx.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function workerScript(name: string, callerUrl: string): { filename: string; workerData?: { tsWorker: string } } {
  const compiled = new URL(`./${name}.js`, callerUrl);
  if (existsSync(fileURLToPath(compiled))) return { filename: compiled.href };
  return { filename: new URL('./ts-worker.mjs', import.meta.url).href, workerData: { tsWorker: new URL(`./${name}.ts`, callerUrl).href } };
}
