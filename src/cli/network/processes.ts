/** Processes a network command starts and later stops from another command: detached, logged to a file, found again by pid. */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';

/** Starts `args` with this same Node (and its loader flags, so it works from src/ and dist/ alike), detached, output to `log`. */
export function spawnDetached(args: string[], log: string, env: NodeJS.ProcessEnv = process.env): number {
  const out = openSync(log, 'a');
  const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: ['ignore', out, out], detached: true, env });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${args.join(' ')}`);
  return child.pid;
}

export function alive(pid: number | null | undefined): pid is number {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM, then waits up to `graceMs` for the process to go; SIGKILL after that. Returns how it ended. */
export async function stopProcess(pid: number, graceMs: number): Promise<'stopped' | 'killed' | 'gone'> {
  if (!alive(pid)) return 'gone';
  process.kill(pid, 'SIGTERM');
  const end = Date.now() + graceMs;
  while (Date.now() < end) {
    if (!alive(pid)) return 'stopped';
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(pid, 'SIGKILL');
  return 'killed';
}

/** The dso command line of this process: the same script, so a network started from src/ runs src/ nodes. */
export function dsoArgs(...rest: string[]): string[] {
  return [process.argv[1], ...rest];
}
