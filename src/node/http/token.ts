/**
 * The HTTP API's bearer token: 32 random bytes, hex, in a file only the
 * operator can read (0600), created once and reused at every start. The file
 * is written under a private temporary name opened with O_EXCL|O_NOFOLLOW
 * and linked into place, so a planted symlink or a concurrent start never
 * makes the node write its secret somewhere else or read a half-written one.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

import { DsoError } from '../../core/errors.js';

const TOKEN_BYTES = 32;
const TOKEN_CHARS = TOKEN_BYTES * 2;

function readToken(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DsoError('INVALID_KEY_FILE', `cannot open the HTTP token file ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new DsoError('INVALID_KEY_FILE', `the HTTP token file ${file} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new DsoError(
        'INVALID_KEY_FILE',
        `the HTTP token file ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
    const buf = Buffer.alloc(TOKEN_CHARS + 2);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const token = buf.toString('utf8', 0, n).trim();
    if (!/^[0-9a-f]+$/u.test(token) || token.length !== TOKEN_CHARS) {
      throw new DsoError('INVALID_KEY_FILE', `the HTTP token file ${file} does not hold a ${TOKEN_CHARS}-character hex token`);
    }
    return token;
  } finally {
    closeSync(fd);
  }
}

/** The token in `file`, created (0600) when the file does not exist. */
export function loadOrCreateToken(file: string): string {
  const existing = readToken(file);
  if (existing !== undefined) return existing;
  const token = randomBytes(TOKEN_BYTES).toString('hex');
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
  } catch (e) {
    // Another start created it first: use theirs.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new DsoError('IO_ERROR', `cannot create ${file}: ${(e as Error).message}`, { cause: e });
  } finally {
    unlinkSync(tmp);
  }
  return readToken(file) ?? token;
}

/** Whether an Authorization header carries this token, compared in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer ([0-9a-f]+)$/u.exec(header ?? '');
  if (!m || m[1].length !== token.length) return false;
  return timingSafeEqual(Buffer.from(m[1]), Buffer.from(token));
}
