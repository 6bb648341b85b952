/** dso network down: SIGTERM to every node (each finishes its running sync), then to the chain, which saves its state. */
import path from 'node:path';

import { requireNetwork, writeNetwork } from './layout.js';
import { stopProcess } from './processes.js';

export async function networkDown(dir: string): Promise<Array<{ name: string; ended: string }>> {
  const abs = path.resolve(dir);
  const net = requireNetwork(abs);
  const ended = await Promise.all(
    net.nodes.map(async (n) => {
      const how = n.pid ? await stopProcess(n.pid, 60_000) : 'gone';
      n.pid = null;
      return { name: n.name, ended: how };
    }),
  );
  const chain = net.chain.pid ? await stopProcess(net.chain.pid, 20_000) : 'gone';
  net.chain.pid = null;
  writeNetwork(abs, net);
  return [...ended, { name: 'chain', ended: chain }];
}
