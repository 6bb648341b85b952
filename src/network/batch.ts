/**
 * A batch: the experience records one node shares in one sync.
 *
 * Each record is a DAG-CBOR block (bitdelta/wire.ts) named by its CIDv1.
 * The batch's manifest block lists the record CIDs (as IPLD links) with the
 * Merkle root over them (merkle.ts), the network id, the node and a
 * timestamp. The node signs an announcement { network, root, manifest CID,
 * count, timestamp } as EIP-712 typed data with its Ethereum key, so the same
 * signature can be checked by any EVM contract; the domain names the chain
 * and the registry (verifyingContract), so a signature made for one network's
 * registry is worthless on another's. Peers check the signature
 * before fetching anything, then every block's hash against its CID, the
 * manifest against the announcement, and the Merkle root against the
 * record list. docs/protocol.md describes the bytes.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { bytesToHex, getAddress, type Hex, hexToBytes, isAddress, isHex, recoverTypedDataAddress } from 'viem';

import type { CompressedExperience } from '../bitdelta/record.js';
import { decodeCompressed, decodeDagCbor, encodeCompressed } from '../bitdelta/wire.js';
import { DsoError } from '../core/errors.js';
import { experienceId } from '../experience/content-id.js';
import { cidOfBlock, DEFAULT_MAX_BLOCK_BYTES, verifyBlock } from './content-store.js';
import type { NodeIdentity } from './identity.js';
import { merkleLevels, type MerkleProof, merkleProof, merkleRoot, verifyMerkleProof } from './merkle.js';

const MANIFEST_VERSION = 1;
export const DEFAULT_MAX_RECORDS = 10_000;
/**
 * Half the secp256k1 group order. (r, s) and (r, n - s) both verify, so a
 * signature with s above this is a second encoding of the same one; EIP-2 and
 * OpenZeppelin's ECDSA refuse it, and so do we (the envelope, and its CID,
 * would otherwise have two forms).
 */
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

export const BATCH_TYPES = {
  Batch: [
    { name: 'network', type: 'string' },
    { name: 'root', type: 'bytes32' },
    { name: 'manifest', type: 'string' },
    { name: 'count', type: 'uint32' },
    { name: 'timestamp', type: 'uint64' },
  ],
} as const;

/** Where a batch is registered: the chain and the ExperienceRegistry's address. */
export interface BatchDomain {
  chainId: number;
  registry: Hex;
}

export function batchDomain(d: BatchDomain) {
  return { name: 'DSO ExperienceRegistry', version: '1', chainId: d.chainId, verifyingContract: d.registry } as const;
}

/** What a node gossips and registers: enough to verify before fetching anything. */
export interface BatchAnnouncement {
  network: string;
  /** Merkle root over the record CIDs, 0x + 64 hex digits. */
  root: Hex;
  /** CID of the manifest block. */
  manifest: string;
  count: number;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  /** The signing node's address. */
  node: Hex;
  signature: Hex;
}

interface Envelope {
  v: number;
  network: string;
  root: Uint8Array;
  manifest: CID;
  count: number;
  timestamp: number;
  node: string;
  signature: Uint8Array;
}

/**
 * The announcement as a block of its own (DAG-CBOR): what gossip carries and
 * what the registry's `cid` names, so a batch found on chain leads to its
 * signature, and the signature to everything else.
 */
export function encodeEnvelope(a: BatchAnnouncement): Uint8Array {
  const env: Envelope = {
    v: MANIFEST_VERSION,
    network: a.network,
    root: hexToBytes(a.root),
    manifest: CID.parse(a.manifest),
    count: a.count,
    timestamp: a.timestamp,
    node: a.node,
    signature: hexToBytes(a.signature),
  };
  return dagCbor.encode(env);
}

export function decodeEnvelope(bytes: Uint8Array): BatchAnnouncement {
  const e = decodeDagCbor<Envelope>(bytes, 'announcement');
  if (
    e === null ||
    typeof e !== 'object' ||
    e.v !== MANIFEST_VERSION ||
    typeof e.network !== 'string' ||
    !(e.root instanceof Uint8Array) ||
    e.root.length !== 32 ||
    CID.asCID(e.manifest) === null ||
    !Number.isInteger(e.count) ||
    !Number.isSafeInteger(e.timestamp) ||
    typeof e.node !== 'string' ||
    !isAddress(e.node) ||
    !(e.signature instanceof Uint8Array)
  ) {
    throw new DsoError('MALFORMED_RECORD', 'announcement fields are missing or of the wrong type');
  }
  return {
    network: e.network,
    root: bytesToHex(e.root),
    manifest: e.manifest.toString(),
    count: e.count,
    timestamp: e.timestamp,
    node: getAddress(e.node),
    signature: bytesToHex(e.signature),
  };
}

export interface BatchRecord {
  cid: CID;
  bytes: Uint8Array;
  proof: MerkleProof;
}

export interface BuiltBatch {
  announcement: BatchAnnouncement;
  manifest: { cid: CID; bytes: Uint8Array };
  records: BatchRecord[];
}

interface Manifest {
  v: number;
  network: string;
  node: string;
  timestamp: number;
  count: number;
  root: Uint8Array;
  records: CID[];
}

export async function buildBatch(
  records: readonly CompressedExperience[],
  opts: BatchDomain & { identity: NodeIdentity; network: string; timestamp?: number; maxRecords?: number },
): Promise<BuiltBatch> {
  const max = opts.maxRecords ?? DEFAULT_MAX_RECORDS;
  if (records.length === 0) throw new DsoError('INVALID_COUNT', 'a batch needs at least one record');
  if (records.length > max) throw new DsoError('TOO_LARGE', `a batch holds at most ${max} records, got ${records.length}`);
  const node = opts.identity.address;
  const timestamp = opts.timestamp ?? Date.now();
  // The records a node shares carry its address as their source: it vouches for them.
  const blocks = records.map((r) => {
    const bytes = encodeCompressed({ ...r, source: node });
    return { cid: cidOfBlock(bytes), bytes };
  });
  const cids = new Set(blocks.map((b) => b.cid.toString()));
  if (cids.size !== blocks.length)
    throw new DsoError('INVALID_ARGUMENT', `a batch lists each record once: ${blocks.length - cids.size} of its records are repeats`);
  const levels = merkleLevels(blocks.map((b) => b.cid.bytes));
  const root = levels[levels.length - 1][0];
  const manifest: Manifest = {
    v: MANIFEST_VERSION,
    network: opts.network,
    node,
    timestamp,
    count: blocks.length,
    root,
    records: blocks.map((b) => b.cid),
  };
  const manifestBytes = dagCbor.encode(manifest);
  const manifestCid = cidOfBlock(manifestBytes);
  const message = {
    network: opts.network,
    root: bytesToHex(root),
    manifest: manifestCid.toString(),
    count: blocks.length,
    timestamp: BigInt(timestamp),
  };
  const signature = await opts.identity.account.signTypedData({
    domain: batchDomain(opts),
    types: BATCH_TYPES,
    primaryType: 'Batch',
    message,
  });
  return {
    announcement: {
      network: opts.network,
      root: message.root,
      manifest: message.manifest,
      count: blocks.length,
      timestamp,
      node,
      signature,
    },
    manifest: { cid: manifestCid, bytes: manifestBytes },
    records: blocks.map((b, i) => ({ ...b, proof: merkleProof(levels, i) })),
  };
}

/** Checks an announcement's shape and that `node` signed it; throws BAD_SIGNATURE otherwise. */
export async function verifyAnnouncement(a: BatchAnnouncement, opts: BatchDomain & { maxRecords?: number }): Promise<void> {
  const bad = (why: string) => new DsoError('BAD_SIGNATURE', `batch announcement: ${why}`);
  if (a === null || typeof a !== 'object') throw bad('not an object');
  if (typeof a.network !== 'string' || typeof a.manifest !== 'string') throw bad('network and manifest must be strings');
  if (!isHex(a.root) || a.root.length !== 66) throw bad('root must be 32 bytes of hex');
  if (!Number.isInteger(a.count) || a.count < 1) throw bad('count must be a positive integer');
  if (a.count > (opts.maxRecords ?? DEFAULT_MAX_RECORDS)) throw new DsoError('TOO_LARGE', `batch of ${a.count} records is over the limit`);
  if (!Number.isSafeInteger(a.timestamp) || a.timestamp < 0) throw bad('timestamp must be a non-negative integer');
  if (typeof a.node !== 'string' || !isAddress(a.node)) throw bad('node must be an address');
  if (!isHex(a.signature) || a.signature.length !== 132) throw bad('signature must be 65 bytes of hex (r, s, v)');
  const s = BigInt(`0x${a.signature.slice(66, 130)}`);
  if (s === 0n || s > SECP256K1_HALF_N) throw bad('signature s must be in the lower half of the curve order (no malleable signatures)');
  const v = Number.parseInt(a.signature.slice(130), 16);
  if (v !== 27 && v !== 28) throw bad(`signature v must be 27 or 28, got ${v}`);
  let signer: Hex;
  try {
    signer = await recoverTypedDataAddress({
      domain: batchDomain(opts),
      types: BATCH_TYPES,
      primaryType: 'Batch',
      message: { network: a.network, root: a.root, manifest: a.manifest, count: a.count, timestamp: BigInt(a.timestamp) },
      signature: a.signature,
    });
  } catch (e) {
    throw new DsoError('BAD_SIGNATURE', `batch announcement: unreadable signature: ${(e as Error).message}`, { cause: e });
  }
  if (getAddress(signer) !== getAddress(a.node)) throw bad(`signed by ${signer}, not by ${a.node}`);
}

/** Whether a record block belongs to the batch with this root (for a record fetched on its own). */
export function verifyRecordInclusion(
  record: { cid: CID; bytes: Uint8Array; proof: MerkleProof },
  root: Hex,
  maxBlockBytes = DEFAULT_MAX_BLOCK_BYTES,
): void {
  verifyBlock(record.cid, record.bytes, maxBlockBytes);
  if (!verifyMerkleProof(record.cid.bytes, record.proof, hexToBytes(root)))
    throw new DsoError('BAD_PROOF', `record ${String(record.cid)} is not in the batch with root ${root}`);
}

function decodeManifest(bytes: Uint8Array): Manifest {
  const m = decodeDagCbor<Manifest>(bytes, 'manifest');
  if (
    m === null ||
    typeof m !== 'object' ||
    m.v !== MANIFEST_VERSION ||
    typeof m.network !== 'string' ||
    typeof m.node !== 'string' ||
    !Number.isSafeInteger(m.timestamp) ||
    !Number.isInteger(m.count) ||
    !(m.root instanceof Uint8Array) ||
    !Array.isArray(m.records) ||
    !m.records.every((c) => CID.asCID(c) !== null)
  ) {
    throw new DsoError('MALFORMED_RECORD', 'manifest fields are missing or of the wrong type');
  }
  return m;
}

export interface OpenedRecord extends CompressedExperience {
  cid: CID;
}

/**
 * Verifies a peer's batch and returns its records: the announcement's
 * signature first, then the manifest block (hash, fields equal to the
 * announcement, Merkle root over its record list), then each record block
 * (hash, size, DAG-CBOR shape, its source the signing node). Any failure
 * throws a typed error and returns nothing; nothing is stored here.
 */
export async function openBatch(
  a: BatchAnnouncement,
  fetchBlock: (cid: CID) => Promise<Uint8Array>,
  opts: BatchDomain & { maxRecords?: number; maxBlockBytes?: number },
): Promise<{ manifest: { cid: CID; bytes: Uint8Array }; records: { opened: OpenedRecord; bytes: Uint8Array }[] }> {
  await verifyAnnouncement(a, opts);
  const maxBlock = opts.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES;
  let manifestCid: CID;
  try {
    manifestCid = CID.parse(a.manifest);
  } catch {
    throw new DsoError('MALFORMED_RECORD', `announcement manifest ${a.manifest} is not a CID`);
  }
  const manifestBytes = await fetchBlock(manifestCid);
  verifyBlock(manifestCid, manifestBytes, maxBlock);
  const m = decodeManifest(manifestBytes);
  if (
    m.network !== a.network ||
    getAddress(m.node) !== getAddress(a.node) ||
    m.timestamp !== a.timestamp ||
    m.count !== a.count ||
    m.records.length !== a.count
  ) {
    throw new DsoError('BAD_PROOF', 'the manifest does not match the signed announcement');
  }
  const listed = new Set(m.records.map((c) => c.toString()));
  if (listed.size !== m.records.length) throw new DsoError('MALFORMED_RECORD', 'the manifest lists a record more than once');
  if (bytesToHex(m.root) !== a.root || bytesToHex(merkleRoot(m.records.map((c) => c.bytes))) !== a.root) {
    throw new DsoError('BAD_PROOF', "the manifest's record list does not hash to the signed root");
  }
  const records = [];
  for (const cid of m.records) {
    const bytes = await fetchBlock(cid);
    verifyBlock(cid, bytes, maxBlock);
    const r = decodeCompressed(bytes, '');
    if (r.source.toLowerCase() !== a.node.toLowerCase())
      throw new DsoError('BAD_PROOF', `record ${String(cid)} names source ${r.source}, not the signing node ${a.node}`);
    records.push({ opened: { ...r, id: experienceId(r.text, r.domain), cid }, bytes });
  }
  return { manifest: { cid: manifestCid, bytes: manifestBytes }, records };
}
