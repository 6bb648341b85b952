/**
 * A node's identity: a secp256k1 key, used as an Ethereum account (viem), so
 * the same key signs batch announcements and sends registry transactions.
 * The key file is created on first start, readable by its owner only (0600);
 * an existing file that others can read is refused rather than used. Each
 * way a key file can be wrong is one typed error: not a regular file
 * (directory, FIFO, a symbolic link to nothing) is NOT_A_FILE; unreadable is
 * IO_ERROR; readable by others, too large, not JSON, not a key file object or
 * not a valid secp256k1 key is INVALID_KEY_FILE.
 */
import { hash } from 'node:crypto';
import {
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

import { type Hex, isHex } from 'viem';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';

import { DsoError } from '../core/errors.js';
import { openRegularFileSync } from '../core/files.js';
import { removeStaleTemps, tempPathFor } from '../core/temp-files.js';

export interface NodeIdentity {
  /** The node id: its Ethereum address (checksummed). */
  address: Hex;
  account: PrivateKeyAccount;
  /** 32 bytes derived from the key (never the key itself): the seed of the node's libp2p identity, stable across restarts. */
  p2pSeed: Uint8Array;
}

interface KeyFile {
  version: 1;
  privateKey: Hex;
  address: Hex;
}

/** A key file is about 150 bytes; anything much larger is not one (and is not read whole). */
const MAX_KEY_FILE_BYTES = 4096;

export function identityFromKey(privateKey: Hex): NodeIdentity {
  const account = privateKeyToAccount(privateKey);
  const p2pSeed = new Uint8Array(
    hash('sha256', Buffer.concat([Buffer.from('dso/p2p-identity/v1'), Buffer.from(privateKey.slice(2), 'hex')]), 'buffer'),
  );
  return { address: account.address, account, p2pSeed };
}

const invalid = (file: string, why: string) => new DsoError('INVALID_KEY_FILE', `key file ${file} ${why}`);

/** Reads the key at `file`, or creates it (mode 0600, parents as needed) when there is none. */
export function loadOrCreateNodeKey(file: string): NodeIdentity {
  removeStaleTemps(file);
  let exists = true;
  try {
    lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new DsoError('IO_ERROR', `cannot read key file ${file}: ${(e as Error).message}`, { cause: e });
    exists = false;
  }
  return exists ? readKey(file) : createKey(file);
}

/** Reads an existing key (dso registry acts as a node's account): INVALID_KEY_FILE when there is none at `file`. */
export function loadNodeKey(file: string): NodeIdentity {
  try {
    lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new DsoError('INVALID_KEY_FILE', `no key file at ${file} (dso node creates one in its data dir on first start)`);
    throw new DsoError('IO_ERROR', `cannot read key file ${file}: ${(e as Error).message}`, { cause: e });
  }
  return readKey(file);
}

function readKey(file: string): NodeIdentity {
  danglingLink(file);
  const { fd, st } = openRegularFileSync(file);
  let raw: string;
  try {
    if ((st.mode & 0o077) !== 0) throw invalid(file, `is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    if (st.size > MAX_KEY_FILE_BYTES) throw invalid(file, `holds ${st.size} bytes; a key file holds at most ${MAX_KEY_FILE_BYTES}`);
    const buf = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
    let got = 0;
    for (;;) {
      const n = got < buf.length ? readSync(fd, buf, got, buf.length - got, got) : 0;
      if (n === 0) break;
      got += n;
    }
    if (got > MAX_KEY_FILE_BYTES) throw invalid(file, `holds more than ${MAX_KEY_FILE_BYTES} bytes`);
    raw = buf.toString('utf8', 0, got);
  } catch (e) {
    if (e instanceof DsoError) throw e;
    throw new DsoError('IO_ERROR', `cannot read key file ${file}: ${(e as Error).message}`, { cause: e });
  } finally {
    closeSync(fd);
  }
  return parseKey(raw, file);
}

/** NOT_A_FILE for a symbolic link whose target does not exist: it is never followed to create a key there. */
function danglingLink(file: string): void {
  if (!lstatSync(file).isSymbolicLink()) return;
  try {
    statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DsoError('NOT_A_FILE', `key file ${file} is a symbolic link to a missing file; remove it or point it at a key file`);
    }
  }
}

function parseKey(raw: string, file: string): NodeIdentity {
  let k: unknown;
  try {
    k = JSON.parse(raw);
  } catch {
    throw invalid(file, 'is not JSON');
  }
  if (k === null || typeof k !== 'object' || Array.isArray(k)) throw invalid(file, 'does not hold a key file object');
  const { version, privateKey, address } = k as Partial<Record<keyof KeyFile, unknown>>;
  if (version !== 1) throw invalid(file, `has version ${JSON.stringify(version)}, expected 1`);
  if (typeof privateKey !== 'string' || !isHex(privateKey) || privateKey.length !== 66)
    throw invalid(file, 'has no 32-byte hex privateKey');
  let id: NodeIdentity;
  try {
    id = identityFromKey(privateKey);
  } catch {
    throw invalid(file, 'holds a privateKey that is not a valid secp256k1 key (zero or not below the group order)');
  }
  if (address !== undefined && (typeof address !== 'string' || address.toLowerCase() !== id.address.toLowerCase())) {
    throw invalid(file, `names address ${JSON.stringify(address)}, which does not belong to its key`);
  }
  return id;
}

function createKey(file: string): NodeIdentity {
  const privateKey = generatePrivateKey();
  const id = identityFromKey(privateKey);
  const body: KeyFile = { version: 1, privateKey, address: id.address };
  const dir = path.dirname(path.resolve(file));
  // A private name, created exclusively and never through a symbolic link: a file or link planted at a guessable name cannot receive the key.
  const tmp = tempPathFor(file);
  let created = false;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
    created = true;
    try {
      writeSync(fd, `${JSON.stringify(body, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // link() publishes the complete file, and fails rather than replace a key (or a link) another process put there meanwhile.
    linkSync(tmp, file);
    syncDir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && created) return readKey(file);
    throw new DsoError('IO_ERROR', `cannot create key file ${file}: ${(e as Error).message}`, { cause: e });
  } finally {
    if (created) unlinkSync(tmp);
  }
  return id;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
