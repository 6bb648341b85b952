/**
 * IPFS-compatible block storage: blocks keyed by CID in a blockstore from the
 * IPFS JS stack (blockstore-fs on disk, the embedded default; blockstore-core
 * in memory, for tests and simulations). Every block that comes in, from a
 * peer or from this node, is checked against its CID (sha2-256) and its size
 * before it is stored, so the store never holds a block it cannot vouch for.
 */
import { hash } from 'node:crypto';

import * as dagCbor from '@ipld/dag-cbor';
import { MemoryBlockstore } from 'blockstore-core/memory';
import { FsBlockstore } from 'blockstore-fs';
import type { Blockstore } from 'interface-blockstore';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { sha256 } from 'multiformats/hashes/sha2';

import { DsoError } from '../core/errors.js';

/** A record is a few hundred bytes and a manifest of 10,000 records about 400 KB. */
export const DEFAULT_MAX_BLOCK_BYTES = 1 << 20;

function digestOf(bytes: Uint8Array): Uint8Array {
  return hash('sha256', bytes, 'buffer');
}

/** The CID (v1, dag-cbor, sha2-256) of DAG-CBOR bytes. */
export function cidOfBlock(bytes: Uint8Array): CID {
  return CID.createV1(dagCbor.code, Digest.create(sha256.code, digestOf(bytes)));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Throws TOO_LARGE or CID_MISMATCH unless `bytes` is the block `cid` names.
 * Every block of this protocol is a CIDv1 dag-cbor sha2-256 block: another
 * version or codec over the same hash would name the same bytes twice, and
 * tell a reader to decode them as something else.
 */
export function verifyBlock(cid: CID, bytes: Uint8Array, maxBytes = DEFAULT_MAX_BLOCK_BYTES): void {
  if (!(bytes instanceof Uint8Array)) throw new DsoError('INVALID_ARGUMENT', `block ${String(cid)} is not bytes`);
  if (bytes.byteLength > maxBytes)
    throw new DsoError('TOO_LARGE', `block ${String(cid)} has ${bytes.byteLength} bytes, more than the ${maxBytes} allowed`);
  if (cid.version !== 1 || cid.code !== dagCbor.code)
    throw new DsoError(
      'CID_MISMATCH',
      `block ${String(cid)}: only CIDv1 dag-cbor blocks are accepted, got version ${cid.version}, codec 0x${cid.code.toString(16)}`,
    );
  if (cid.multihash.code !== sha256.code) throw new DsoError('CID_MISMATCH', `block ${String(cid)}: only sha2-256 CIDs are accepted`);
  if (!equal(cid.multihash.digest, digestOf(bytes))) throw new DsoError('CID_MISMATCH', `block does not hash to ${String(cid)}`);
}

export class ContentStore {
  private constructor(
    private readonly store: Blockstore,
    readonly maxBlockBytes: number,
    private readonly onClose?: () => Promise<void>,
  ) {}

  static memory(opts: { maxBlockBytes?: number } = {}): ContentStore {
    return new ContentStore(new MemoryBlockstore(), opts.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES);
  }

  /** A blockstore-fs directory (created if missing), the layout IPFS implementations use. */
  static async fs(dir: string, opts: { maxBlockBytes?: number } = {}): Promise<ContentStore> {
    const fs = new FsBlockstore(dir);
    try {
      await fs.open();
    } catch (e) {
      throw new DsoError('IO_ERROR', `cannot open block store ${dir}: ${(e as Error).message}`, { cause: e });
    }
    return new ContentStore(fs, opts.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES, () => fs.close());
  }

  /** Stores this node's own block and returns its CID. */
  async put(bytes: Uint8Array): Promise<CID> {
    const cid = cidOfBlock(bytes);
    verifyBlock(cid, bytes, this.maxBlockBytes);
    await this.store.put(cid, bytes);
    return cid;
  }

  /** Stores a block that came from elsewhere, after checking it is the block `cid` names. */
  async putVerified(cid: CID, bytes: Uint8Array): Promise<void> {
    verifyBlock(cid, bytes, this.maxBlockBytes);
    await this.store.put(cid, bytes);
  }

  async has(cid: CID): Promise<boolean> {
    return this.store.has(cid);
  }

  /** The block, or undefined when this store does not have it. */
  async get(cid: CID): Promise<Uint8Array | undefined> {
    if (!(await this.store.has(cid))) return undefined;
    const parts: Uint8Array[] = [];
    for await (const p of this.store.get(cid)) parts.push(p);
    const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    // A disk can rot too: what is read back is checked like what comes from a peer.
    verifyBlock(cid, bytes, this.maxBlockBytes);
    return bytes;
  }

  async close(): Promise<void> {
    await this.onClose?.();
  }
}
