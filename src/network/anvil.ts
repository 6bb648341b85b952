/**
 * anvil (Foundry's local EVM node, shipped for this platform by
 * @foundry-rs/anvil) as a chain other processes can reach: what `dso network
 * up` runs for a local network. Bound to 127.0.0.1 only; its state can be
 * kept in a file so a network restarts where it stopped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { DsoError } from '../core/errors.js';

/** anvil's first development account: funded with 10,000 ether on every fresh anvil chain, and known to everyone. */
export const ANVIL_DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const;

export function anvilBinary(): string | undefined {
  const platform = `${process.platform === 'win32' ? 'win32' : process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`;
  try {
    const require = createRequire(import.meta.url);
    return path.join(path.dirname(require.resolve(`@foundry-rs/anvil-${platform}/package.json`)), 'bin', 'anvil');
  } catch {
    return undefined;
  }
}

export interface AnvilOptions {
  port: number;
  chainId?: number;
  /** Load the chain from this file at start and write it back at exit (and every `stateInterval` seconds). */
  stateFile?: string;
  stateInterval?: number;
  /** Where its output goes; default: discarded. */
  logFile?: string;
  /** Outlive this process (a network started by one command and stopped by another). */
  detached?: boolean;
}

/** Waits until a JSON-RPC endpoint answers eth_chainId, or the deadline passes. */
export async function waitForRpc(url: string, deadlineMs: number): Promise<number> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
        signal: AbortSignal.timeout(1000),
      });
      if (r.ok) return Number(((await r.json()) as { result: string }).result);
    } catch (e) {
      last = e;
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new DsoError(
    'CHAIN_ERROR',
    `no chain answered at ${url} within ${deadlineMs} ms: ${(last as Error | undefined)?.message ?? 'no answer'}`,
  );
}

/** Starts anvil on 127.0.0.1:port and waits until it answers. */
export async function spawnAnvil(o: AnvilOptions): Promise<{ child: ChildProcess; url: string }> {
  const bin = anvilBinary();
  if (!bin) throw new DsoError('BACKEND_UNAVAILABLE', 'anvil is not installed for this platform (npm package @foundry-rs/anvil)');
  const args = ['--host', '127.0.0.1', '--port', String(o.port), '--chain-id', String(o.chainId ?? 31337)];
  if (o.stateFile) args.push('--state', o.stateFile, '--state-interval', String(o.stateInterval ?? 5));
  const out = o.logFile ? openSync(o.logFile, 'a') : 'ignore';
  const child = spawn(bin, args, { stdio: ['ignore', out, out], detached: o.detached === true });
  if (o.detached) child.unref();
  const url = `http://127.0.0.1:${o.port}`;
  try {
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) =>
        reject(new DsoError('CHAIN_ERROR', `anvil exited with status ${code} before answering (port ${o.port} taken?)`)),
      ),
    );
    await Promise.race([waitForRpc(url, 20_000), exited]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return { child, url };
}
