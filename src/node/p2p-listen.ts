/**
 * Where a node listens for peers when its configuration does not say: on
 * 127.0.0.1, on the port its first start was given, kept in the data
 * directory, so the address its peers have for it stays right across
 * restarts.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const FILE = 'p2p-listen.json';

export function savedListen(dataDir: string): string[] {
  try {
    const { port } = JSON.parse(readFileSync(path.join(dataDir, FILE), 'utf8')) as { port?: unknown };
    if (typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536) return [`/ip4/127.0.0.1/tcp/${port}`];
  } catch {
    // None yet (or unreadable): a port is chosen now and saved.
  }
  return ['/ip4/127.0.0.1/tcp/0'];
}

/** Records the TCP port of the first of `addresses` (multiaddrs the node is listening on). */
export function saveListen(dataDir: string, addresses: readonly string[]): void {
  const port = addresses.map((a) => /\/tcp\/(\d+)/u.exec(a)?.[1]).find((p) => p !== undefined);
  if (port === undefined) return;
  const file = path.join(dataDir, FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify({ port: Number(port) }));
  renameSync(`${file}.tmp`, file);
}
