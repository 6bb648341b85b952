/**
 * Deadlines for waits on peers. A peer can accept a stream and then say
 * nothing, forever; every wait on one runs under a signal that aborts it, and
 * the abort surfaces as PEER_TIMEOUT naming what was being waited for.
 */
import { DsoError } from '../core/errors.js';

/** A signal that aborts after `ms` with PEER_TIMEOUT; `clear()` when the wait is over, so no timer outlives it. */
export function deadline(ms: number, what: string): { signal: AbortSignal; clear: () => void } {
  const c = new AbortController();
  const timer = setTimeout(() => c.abort(new DsoError('PEER_TIMEOUT', `${what}: no answer within ${ms} ms`)), ms);
  return { signal: c.signal, clear: () => clearTimeout(timer) };
}

/**
 * Runs one step of an exchange with a signal that aborts after `ms`, or when
 * `outer` (the whole exchange's deadline, if any) does. Whatever the step
 * throws once a deadline has passed becomes that deadline's PEER_TIMEOUT.
 */
export async function within<T>(
  ms: number,
  outer: AbortSignal | undefined,
  what: string,
  step: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const d = deadline(ms, what);
  try {
    return await step(outer === undefined ? d.signal : AbortSignal.any([outer, d.signal]));
  } catch (e) {
    for (const s of [d.signal, outer]) if (s?.aborted === true && s.reason instanceof DsoError) throw s.reason;
    throw e;
  } finally {
    d.clear();
  }
}
