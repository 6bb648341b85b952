/**
 * dso network up: a local DSO network in one command: anvil (a real JSON-RPC
 * chain other processes reach), the ExperienceRegistry, N funded member keys,
 * one configuration per node, and N `dso node` processes, each with its own
 * data directory, stable p2p and HTTP ports, and the others as peers. On a
 * directory that already holds a network, the parts that are not running are
 * started again, with their data.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

import { parseEther } from 'viem';

import { DsoError } from '../../core/errors.js';
import { spawnAnvil } from '../../network/anvil.js';
import { connectChain } from '../../network/chain.js';
import { loadOrCreateNodeKey } from '../../network/identity.js';
import { p2pPeerId } from '../../network/p2p-identity.js';
import { RegistryClient } from '../../network/registry.js';
import { type NetworkFile, type NodeEntry, readNetwork, writeNetwork } from './layout.js';
import { alive, dsoArgs, spawnDetached } from './processes.js';

export interface UpOptions {
  nodes: number;
  dir: string;
  httpPort: number;
  p2pPort: number;
  chainPort: number;
  network: string;
  syncFrequency: number;
  capacity: number;
  modelUrl?: string;
  model?: string;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function requireFree(ports: Array<[number, string]>): Promise<void> {
  for (const [port, what] of ports) {
    if (!(await portFree(port)))
      throw new DsoError('INVALID_ARGUMENT', `port ${port} (${what}) is taken on 127.0.0.1; choose another base port`);
  }
}

async function waitHealthy(entry: NodeEntry, log: string, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (!alive(entry.pid)) throw new DsoError('IO_ERROR', `${entry.name} exited while starting; see ${log}`);
    try {
      if ((await fetch(`${entry.http}/health`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new DsoError('IO_ERROR', `${entry.name} did not answer ${entry.http}/health within ${deadlineMs / 1000} s; see ${log}`);
}

/** A new network: chain, keys, registry, configurations. Nodes are started by startNodes. */
async function create(o: UpOptions): Promise<NetworkFile> {
  const dir = path.resolve(o.dir);
  await requireFree([
    [o.chainPort, 'the chain'],
    ...Array.from({ length: o.nodes }, (_, i): [number, string] => [o.httpPort + i, `node-${i + 1} HTTP`]),
    ...Array.from({ length: o.nodes }, (_, i): [number, string] => [o.p2pPort + i, `node-${i + 1} p2p`]),
  ]);
  mkdirSync(path.join(dir, 'chain'), { recursive: true });
  const stateFile = path.join(dir, 'chain', 'state.json');
  const anvil = await spawnAnvil({ port: o.chainPort, stateFile, logFile: path.join(dir, 'chain', 'anvil.log'), detached: true });
  try {
    return await deploy(o, dir, anvil.url, stateFile, anvil.child.pid ?? null);
  } catch (e) {
    // Nothing of a network that could not be set up keeps running.
    anvil.child.kill('SIGKILL');
    throw e;
  }
}

async function deploy(o: UpOptions, dir: string, rpcUrl: string, stateFile: string, chainPid: number | null): Promise<NetworkFile> {
  const chain = await connectChain(rpcUrl, { pollingInterval: 200 });
  const owner = loadOrCreateNodeKey(path.join(dir, 'owner.key'));
  await chain.fund(owner.address, parseEther('1000'));
  const nodes: NodeEntry[] = [];
  for (let i = 0; i < o.nodes; i++) {
    const dataDir = path.join(dir, `node-${i + 1}`);
    const id = loadOrCreateNodeKey(path.join(dataDir, 'node.key'));
    await chain.fund(id.address, parseEther('100'));
    nodes.push({
      name: `node-${i + 1}`,
      http: `http://127.0.0.1:${o.httpPort + i}`,
      tokenFile: path.join(dataDir, 'http.token'),
      p2p: `/ip4/127.0.0.1/tcp/${o.p2pPort + i}/p2p/${await p2pPeerId(id)}`,
      account: id.address,
      dataDir,
      pid: null,
    });
  }
  // The members govern the registry from the start: the owner only adds them, then gives up its powers.
  const registry = await RegistryClient.deploy(chain, owner, { votingPeriod: 600, members: nodes.map((n) => n.account), seal: true });
  for (const [i, n] of nodes.entries()) {
    const config = {
      dataDir: n.dataDir,
      network: o.network,
      rpcUrl,
      registryAddress: registry.address,
      listen: [`/ip4/127.0.0.1/tcp/${o.p2pPort + i}`],
      peers: nodes.filter((p) => p !== n).map((p) => p.p2p),
      syncFrequency: o.syncFrequency,
      library: { capacity: o.capacity },
      http: { host: '127.0.0.1', port: o.httpPort + i },
      ...(o.modelUrl && o.model ? { model: { baseUrl: o.modelUrl, name: o.model } } : {}),
    };
    writeFileSync(path.join(n.dataDir, 'dso.config.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  }
  return {
    rpcUrl,
    registryAddress: registry.address,
    chain: { pid: chainPid, stateFile, port: o.chainPort, chainId: chain.chain.id },
    nodes,
  };
}

/** Starts whatever part of the network is not running: the chain (from its saved state), then each node. */
async function startMissing(dir: string, net: NetworkFile): Promise<void> {
  if (!alive(net.chain.pid)) {
    const anvil = await spawnAnvil({
      port: net.chain.port,
      chainId: net.chain.chainId,
      stateFile: net.chain.stateFile,
      logFile: path.join(dir, 'chain', 'anvil.log'),
      detached: true,
    });
    net.chain.pid = anvil.child.pid ?? null;
  }
  for (const n of net.nodes) {
    if (alive(n.pid)) continue;
    const log = path.join(n.dataDir, 'node.log');
    n.pid = spawnDetached(dsoArgs('node', '--config', path.join(n.dataDir, 'dso.config.json')), log, {
      ...process.env,
      DSO_LOG_LEVEL: process.env.DSO_LOG_LEVEL ?? 'info',
    });
    writeNetwork(dir, net);
  }
  for (const n of net.nodes) await waitHealthy(n, path.join(n.dataDir, 'node.log'), 90_000);
  writeNetwork(dir, net);
}

export async function networkUp(o: UpOptions): Promise<NetworkFile> {
  const dir = path.resolve(o.dir);
  let net = readNetwork(dir);
  if (net === undefined) {
    net = await create(o);
    writeNetwork(dir, net);
  }
  await startMissing(dir, net);
  return net;
}
