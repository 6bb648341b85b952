/**
 * The stand-in model of the evaluation tests as a server of its own, for
 * reproducing the README's pipeline figures by hand:
 *   npx tsx test/helpers/serve-method-model.ts [--port 8099] [--base-accuracy 0.25] [--seed 1]
 * It listens on 127.0.0.1 only and stops on SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';

import { startChatServer } from './chat-server.js';
import { methodModel } from './method-model.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8099' },
    'base-accuracy': { type: 'string', default: '0.25' },
    seed: { type: 'string', default: '1' },
  },
});
const server = await startChatServer(methodModel({ baseAccuracy: Number(values['base-accuracy']), seed: Number(values.seed) }), {
  port: Number(values.port),
});
console.log(`stand-in model at ${server.url} (model name: anything)`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
