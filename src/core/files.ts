/**
 * Opening files that come from outside (index files, vector files, key
 * files) so that what is not a regular file is a typed error, not a hang or
 * a raw errno: the open never waits (O_NONBLOCK: a FIFO with no writer would
 * block it forever), and the open descriptor, not the path, is checked.
 */
import { closeSync, constants, fstatSync, openSync, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

import { DsoError } from './errors.js';

const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** NOT_A_FILE unless `st` is a regular file's. */
export function requireRegularFile(st: Stats, file: string): void {
  if (!st.isFile()) throw new DsoError('NOT_A_FILE', `${file} is ${kind(st)}, not a regular file`);
}

function openError(e: unknown, file: string): DsoError {
  return new DsoError('IO_ERROR', `could not open ${file}: ${(e as Error).message}`, { cause: e });
}

/** A regular file opened for reading, with its size; NOT_A_FILE or IO_ERROR otherwise. */
export async function openRegularFile(file: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(file, READ_FLAGS);
  } catch (e) {
    throw openError(e, file);
  }
  try {
    const st = await fh.stat();
    requireRegularFile(st, file);
    return { fh, size: st.size };
  } catch (e) {
    await fh.close();
    if (e instanceof DsoError) throw e;
    throw openError(e, file);
  }
}

/** openRegularFile for synchronous callers: a descriptor and the file's stats. */
export function openRegularFileSync(file: string): { fd: number; st: Stats } {
  let fd: number;
  try {
    fd = openSync(file, READ_FLAGS);
  } catch (e) {
    throw openError(e, file);
  }
  try {
    const st = fstatSync(fd);
    requireRegularFile(st, file);
    return { fd, st };
  } catch (e) {
    closeSync(fd);
    if (e instanceof DsoError) throw e;
    throw openError(e, file);
  }
}
