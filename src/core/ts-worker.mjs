// Runs a worker module written in TypeScript from src/ (tests and the
// benchmark run without a build): tsx compiles it in this thread before the
// pool calls it. Loading it with `--import tsx` instead races the hooks'
// registration on Node 20 and fails now and then. dist/ never needs this.
import { workerData } from 'node:worker_threads';

import { tsImport } from 'tsx/esm/api';

const mod = await tsImport(workerData.tsWorker, import.meta.url);
export default mod.default;
