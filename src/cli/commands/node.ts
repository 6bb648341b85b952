/**
 * dso node: a long-running node: the HTTP API, learning, and network syncs.
 * Logs are JSON lines (pino, through fastify). SIGTERM or SIGINT: stop taking
 * requests, finish the running sync, close the database, exit 0.
 */
import type { Command } from 'commander';

import { describeError } from '../../core/errors.js';
import { configFlags, loadConfig } from '../../node/config.js';
import { DsoNode } from '../../node/dso-node.js';
import { buildHttpApi } from '../../node/http/server.js';

const camel = (flag: string) => flag.replace(/-([a-z])/gu, (_, c: string) => c.toUpperCase());

async function runNode(opts: Record<string, string | undefined>): Promise<void> {
  const flags = Object.fromEntries(configFlags().map(({ flag }) => [flag, opts[camel(flag)]]));
  const config = loadConfig({ file: opts.config, flags });
  let warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`);
  const node = await DsoNode.start(config, { log: (line) => warn(line) });
  const app = await buildHttpApi(node, { logger: { level: process.env.DSO_LOG_LEVEL ?? 'info' } });
  warn = (line) => app.log.warn(line);
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
      httpToken: node.httpTokenFile ?? null,
    },
    'dso node ready',
  );
  if (node.network) {
    // Whether this node can take part fully, said once at start (and in GET /status after every sync).
    try {
      const s = await node.trainer.checkStanding();
      if (s?.advice) app.log.warn({ account: s.account, member: s.member, balance: s.balance }, s.advice);
      else if (s)
        app.log.info(
          { account: s.account, member: s.member, balance: s.balance },
          'this account is a member with funds: it submits and votes',
        );
    } catch (e) {
      app.log.warn(`the chain did not answer about this account: ${describeError(e)}; syncs will try again`);
    }
  }
  if (node.httpTokenFile) {
    app.log.info(
      { tokenFile: node.httpTokenFile },
      `write endpoints need the token: curl -H "Authorization: Bearer $(cat ${node.httpTokenFile})" -H 'content-type: application/json' ${address}/sync -d '{}'`,
    );
  }
}

export function registerNode(program: Command): void {
  const cmd = program
    .command('node')
    .description('run a DSO node: HTTP API, experience library, learning and network sync')
    .option('--config <file>', 'dso.config.toml or .json (default: one of those in the working directory, if present)');
  // The flags mirror the config file's keys; their defaults live in the config schema (file < DSO_* < flag), so none is set here.
  for (const f of configFlags()) {
    cmd.option(
      `--${f.flag} <value>`,
      `${f.help} [${f.env}]${f.fallback !== undefined && f.fallback !== '' ? ` (default: ${f.fallback})` : ''}`,
    );
  }
  cmd
    .addHelpText(
      'after',
      '\nExamples:\n  $ dso node --data-dir dso-data --port 8787\n  $ dso node --config dso.config.toml --peers /ip4/127.0.0.1/tcp/4002/p2p/12D3KooW...',
    )
    .action((o: Record<string, string | undefined>) => runNode(o));
}
