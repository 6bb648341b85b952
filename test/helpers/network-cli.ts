/**
 * Driving real `dso` processes from tests: the CLI itself, a node's HTTP API
 * with its token, and waiting on a condition with a deadline.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import type { NodeEntry } from '../../src/cli/network/layout.js';

/** Runs `dso ...args` to completion, as a user would from the shell. */
export function dso(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 240_000 });
}

/** Calls a node's API with its token: GET without a body, POST with one (and for /sync). */
export async function call(n: Pick<NodeEntry, 'http' | 'tokenFile'>, route: string, body?: unknown) {
  const token = readFileSync(n.tokenFile, 'utf8').trim();
  const r = await fetch(`${n.http}${route}`, {
    method: body === undefined && route !== '/sync' ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

/** The texts in a node's library. */
export async function texts(n: Pick<NodeEntry, 'http' | 'tokenFile'>): Promise<string[]> {
  const r = await call(n, '/experiences?limit=10000');
  return (r.json.experiences as Array<{ text: string }>).map((e) => e.text);
}

/** Polls `cond` every 200 ms until it holds; throws after `ms`. */
export async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
