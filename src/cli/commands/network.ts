/** dso network up | status | down: a local DSO network of real node processes on one anvil chain. */
import { type Command, Option } from 'commander';

import { networkDown } from '../network/down.js';
import { requireNetwork } from '../network/layout.js';
import { nodeStatus } from '../network/status.js';
import { networkUp, type UpOptions } from '../network/up.js';
import { int } from '../options.js';
import { table } from '../output.js';

export function registerNetwork(program: Command): void {
  const network = program.command('network').description('a local network of dso node processes on one chain: start, inspect, stop');
  network
    .command('up')
    .description(
      'start anvil, deploy the registry, fund and register N node keys, start N dso node processes (or restart a stopped network)',
    )
    .addOption(new Option('--nodes <n>', 'how many nodes').argParser(int(1, 64)).default(3))
    .requiredOption('--dir <dir>', 'the network lives here: network.json, chain/, node-1/ ...')
    .addOption(new Option('--http-port <port>', 'HTTP port of node 1 (node i gets port + i - 1)').argParser(int(1024, 65000)).default(8787))
    .addOption(new Option('--p2p-port <port>', 'p2p port of node 1 (node i gets port + i - 1)').argParser(int(1024, 65000)).default(4101))
    .addOption(new Option('--chain-port <port>', "anvil's JSON-RPC port").argParser(int(1024, 65000)).default(8545))
    .option('--network <name>', 'network name (gossip topic, signatures)', 'dso-local')
    .addOption(new Option('--sync-frequency <n>', 'learning steps between syncs').argParser(int(1, 1_000_000)).default(100))
    .addOption(new Option('--capacity <n>', "most experiences each node's library keeps").argParser(int(1, 10_000_000)).default(200))
    .option('--model-url <url>', 'an OpenAI-compatible server every node learns with')
    .option('--model <name>', "the model's name on that server")
    .addHelpText(
      'after',
      '\nExamples:\n  $ dso network up --nodes 3 --dir dso-net\n  $ dso network status --dir dso-net\n  $ dso network down --dir dso-net',
    )
    .action(async (o: UpOptions) => {
      const net = await networkUp(o);
      console.log(
        table(
          ['node', 'http', 'account', 'p2p', 'pid'],
          net.nodes.map((n) => [n.name, n.http, n.account, n.p2p, n.pid ?? '-']),
        ),
      );
      console.log(`chain ${net.rpcUrl} (pid ${net.chain.pid ?? '-'}), registry ${net.registryAddress}; written: ${o.dir}/network.json`);
      console.log(`write endpoints need a node's token: -H "Authorization: Bearer $(cat ${net.nodes[0].tokenFile})"`);
    });
  network
    .command('status')
    .description("each node's health, library size, peers, membership and batches")
    .requiredOption('--dir <dir>', 'a directory dso network up wrote')
    .option('--json', 'print the rows as JSON')
    .addHelpText('after', '\nExample:\n  $ dso network status --dir dso-net')
    .action(async (o: { dir: string; json?: boolean }) => {
      const rows = await nodeStatus(requireNetwork(o.dir));
      if (o.json) {
        console.log(JSON.stringify(rows));
        return;
      }
      const cell = (v: string | number | boolean | null | undefined) => (v === undefined || v === null ? '-' : String(v));
      console.log(
        table(
          ['node', 'state', 'library', 'peers', 'member', 'submitted', 'accepted', 'merged', 'pending', 'last error'],
          rows.map((r) => [
            r.name,
            r.state,
            cell(r.library),
            cell(r.peers),
            cell(r.member),
            cell(r.submitted),
            cell(r.accepted),
            cell(r.merged),
            cell(r.pending),
            cell(r.lastError),
          ]),
        ),
      );
    });
  network
    .command('down')
    .description('stop every node (each finishes its running sync) and the chain (which keeps its state for the next up)')
    .requiredOption('--dir <dir>', 'a directory dso network up wrote')
    .addHelpText('after', '\nExample:\n  $ dso network down --dir dso-net')
    .action(async (o: { dir: string }) => {
      for (const r of await networkDown(o.dir)) console.log(`${r.name}: ${r.ended}`);
    });
}
