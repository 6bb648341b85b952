/** A TypeScript helper process that speaks JSON lines on stdout; the tests read its lines and end it. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface JsonChild {
  /** The next JSON line, or an error naming the exit status and stderr if the process ends first or `ms` passes. */
  next<T = Record<string, unknown>>(ms?: number): Promise<T>;
  /** Closes its stdin (the helpers' signal to stop) and waits for it to exit, killing it after `ms`. */
  stop(ms?: number): Promise<number | null>;
  readonly process: ChildProcess;
}

export function startChild(script: string, args: string[]): JsonChild {
  const p = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  const waiting: Array<(line: string | undefined) => void> = [];
  createInterface({ input: p.stdout }).on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
  void exited.then(() => waiting.splice(0).forEach((w) => w(undefined)));
  return {
    process: p,
    async next<T>(ms = 60_000): Promise<T> {
      const line =
        lines.shift() ??
        (await new Promise<string | undefined>((resolve, reject) => {
          if (p.exitCode !== null) return resolve(undefined);
          const timer = setTimeout(() => reject(new Error(`${script}: no line within ${ms} ms; stderr: ${stderr}`)), ms);
          waiting.push((l) => {
            clearTimeout(timer);
            resolve(l);
          });
        }));
      if (line === undefined) throw new Error(`${script} exited with ${p.exitCode}; stderr: ${stderr}`);
      return JSON.parse(line) as T;
    },
    async stop(ms = 10_000): Promise<number | null> {
      if (p.exitCode !== null) return p.exitCode;
      p.stdin?.end();
      const timer = setTimeout(() => p.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
