/**
 * A node's identity: a secp256k1 key, used as an Ethereum account (viem), so
 * the same key signs batch announcements and sends registry transactions.
 * The key file is created on first start, readable by its owner only (0600);
 * an existing file that others can read is refused rather than used.
 */
import { hash } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

import { type Hex, isHex } from 'viem';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';

import { DsoError } from '../core/errors.js';

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

export function identityFromKey(privateKey: Hex): NodeIdentity {
  const account = privateKeyToAccount(privateKey);
  const p2pSeed = new Uint8Array(
    hash('sha256', Buffer.concat([Buffer.from('dso/p2p-identity/v1'), Buffer.from(privateKey.slice(2), 'hex')]), 'buffer'),
  );
  return { address: account.address, account, p2pSeed };
}

/** Reads the key at `file`, or creates it (mode 0600, parents as needed) when there is none. */
export function loadOrCreateNodeKey(file: string): NodeIdentity {
  let raw: string;
  try {
    const st = statSync(file);
    if ((st.mode & 0o077) !== 0) {
      throw new DsoError(
        'INVALID_KEY_FILE',
        `key file ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
    raw = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof DsoError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new DsoError('IO_ERROR', `cannot read key file ${file}: ${(e as Error).message}`, { cause: e });
    return createKey(file);
  }
  let k: KeyFile;
  try {
    k = JSON.parse(raw) as KeyFile;
  } catch {
    throw new DsoError('INVALID_KEY_FILE', `key file ${file} is not JSON`);
  }
  if (k.version !== 1 || typeof k.privateKey !== 'string' || !isHex(k.privateKey) || k.privateKey.length !== 66) {
    throw new DsoError('INVALID_KEY_FILE', `key file ${file} has no valid privateKey`);
  }
  const id = identityFromKey(k.privateKey);
  if (k.address !== undefined && k.address.toLowerCase() !== id.address.toLowerCase()) {
    throw new DsoError('INVALID_KEY_FILE', `key file ${file}: address ${k.address} does not belong to its key`);
  }
  return id;
}

function createKey(file: string): NodeIdentity {
  const privateKey = generatePrivateKey();
  const id = identityFromKey(privateKey);
  const body: KeyFile = { version: 1, privateKey, address: id.address };
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(body, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // link() publishes the complete file, and fails rather than replace a key another process made meanwhile.
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateNodeKey(file);
    throw new DsoError('IO_ERROR', `cannot create key file ${file}: ${(e as Error).message}`, { cause: e });
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file was never created
    }
  }
  return id;
}
