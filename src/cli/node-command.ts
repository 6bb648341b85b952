/**
 * dso node [--config dso.config.json|.toml] [--port 8787] [--data-dir dso-data] [--peers a,b] ...
 * A long-running node: the HTTP API, learning, and network syncs. Logs are
 * JSON lines (pino, through fastify). SIGTERM or SIGINT: stop taking
 * requests, finish the running sync, close the database, exit 0.
 */
import { parseArgs } from 'node:util';

import { CONFIG_FLAGS, loadConfig } from '../node/config.js';
import { DsoNode } from '../node/dso-node.js';
import { buildHttpApi } from '../node/http-api.js';

export async function nodeCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, ...Object.fromEntries(CONFIG_FLAGS.map((f) => [f, { type: 'string' as const }])) },
  });
  const { config: file, ...flags } = values;
  const config = loadConfig({ file, flags: flags });
  const node = await DsoNode.start(config);
  const app = await buildHttpApi(node, { logger: { level: process.env.DSO_LOG_LEVEL ?? 'info' } });
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      app.log.info({ signal }, 'stopping: finishing the running sync');
      await app.close();
      await node.stop();
      app.log.info('stopped');
    })();
    return stopping;
  };
  process.once('SIGTERM', () => void stop('SIGTERM').then(() => process.exit(0)));
  process.once('SIGINT', () => void stop('SIGINT').then(() => process.exit(0)));
  const address = await app.listen({ host: config.http.host, port: config.http.port });
  app.log.info(
    {
      nodeId: node.nodeId,
      http: address,
      p2p: node.network?.p2p.addresses ?? [],
      chain: node.network?.chain.where ?? null,
      registry: node.network?.registry.address ?? null,
      library: node.library.size,
    },
    'dso node ready',
  );
}
