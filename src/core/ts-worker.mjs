// Runs a worker module written in TypeScript from src/ (tests and the
// benchmark run without a build): tsx compiles it in this thread before the
// pool calls it. Loading it with `--import tsx` instead races the hooks'
// registration on Node 20 and fails now and then. dist/ never needs this.
import { workerData } from 'node:worker_threads';

import { tsImport } from 'tsx/esm/api';

// workerData and tsImport are typed `any`: take them as unknown, then name what they hold.
/** @type {unknown} */
const data = workerData;
const { tsWorker } = /** @type {{ tsWorker: string }} */ (data);
/** @type {unknown} */
const imported = await tsImport(tsWorker, import.meta.url);
const mod = /** @type {{ default: unknown }} */ (imported);
export default mod.default;
