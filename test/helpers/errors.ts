/** How a call fails, for assertions: its DsoError code (anything else fails the test), or 'no error'. */
import { DsoError } from '../../src/core/errors.js';

export async function errorCode(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof DsoError) return e.code;
    throw e;
  }
  return 'no error';
}

/** For registry calls: 'CODE:reason', the reason being the contract's error name when it reverted. */
export async function revertReason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof DsoError)) throw e;
    return `${e.code}:${(e as { reason?: string }).reason ?? ''}`;
  }
  return 'no error';
}
