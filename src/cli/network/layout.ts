/**
 * A local network's directory: network.json says where the chain and every
 * node are (the file `dso network status` and `down` read, and that tests
 * and scripts can use), and each node has a directory of its own.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { Hex } from 'viem';

import { DsoError } from '../../core/errors.js';

export interface NodeEntry {
  name: string;
  /** Base URL of its HTTP API. */
  http: string;
  /** The file holding the token its write endpoints need. */
  tokenFile: string;
  /** Its p2p multiaddr, with peer id. */
  p2p: string;
  account: Hex;
  dataDir: string;
  /** The node's process while it runs; null once stopped. */
  pid: number | null;
}

export interface NetworkFile {
  rpcUrl: string;
  registryAddress: Hex;
  chain: { pid: number | null; stateFile: string; port: number; chainId: number };
  nodes: NodeEntry[];
}

export const networkFile = (dir: string) => path.join(dir, 'network.json');

export function readNetwork(dir: string): NetworkFile | undefined {
  const file = networkFile(dir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as NetworkFile;
  } catch (e) {
    throw new DsoError('INVALID_CONFIG', `${file} is not a network description: ${(e as Error).message}`, { cause: e });
  }
}

export function requireNetwork(dir: string): NetworkFile {
  const n = readNetwork(dir);
  if (!n) throw new DsoError('INVALID_CONFIG', `${dir} holds no network.json: start one with dso network up --dir ${dir}`);
  return n;
}

export function writeNetwork(dir: string, n: NetworkFile): void {
  const file = networkFile(dir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(n, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
