/** anvil (Foundry's local EVM node, from npm) on 127.0.0.1, for tests where several processes share one chain. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface Anvil {
  url: string;
  stop(): Promise<void>;
}

export function anvilBinary(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return path.join(path.dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil');
  } catch {
    return undefined;
  }
}

export async function startAnvil(): Promise<Anvil> {
  const bin = anvilBinary();
  if (!bin) throw new Error('anvil binary not installed');
  const port = 20_000 + (process.pid % 20_000);
  const child: ChildProcess = spawn(bin, ['--host', '127.0.0.1', '--port', String(port), '--silent', '--chain-id', '31338'], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
      });
      if (r.ok) break;
    } catch {
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
  return {
    url,
    stop: () =>
      new Promise<void>((ok) => {
        child.once('exit', () => ok());
        child.kill('SIGTERM');
      }),
  };
}
