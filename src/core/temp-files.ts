/**
 * Temporary files beside a target that is written whole and renamed (or
 * linked) into place: `.<name>.<pid>.<8 hex>.tmp`. A process killed midway
 * leaves its temporary behind; the next save or load of the same target
 * removes those whose process is gone, and nothing else.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';

/** A fresh temporary name beside `target` (the caller creates it with O_EXCL). */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists, it is another user's.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes temporaries of `target` left by processes that no longer run; returns how many. Best effort: errors are ignored. */
export function removeStaleTemps(target: string): number {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d{1,10})\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length));
    const pid = m ? Number(m[1]) : 0;
    if (pid < 1 || pid === process.pid || alive(pid)) continue;
    try {
      unlinkSync(path.join(dir, name));
      removed++;
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}
