/**
 * A binary Merkle tree over a batch's record CIDs (sha256). Leaves and inner
 * nodes are hashed under different prefixes (0x00 and 0x01), so a leaf can
 * never be passed off as an inner node (the second-preimage trick on
 * unprefixed trees). An odd node at the end of a level moves up unchanged
 * rather than being paired with a copy of itself, so no two leaf lists share a
 * root. Both are the rules of RFC 6962 (Certificate Transparency), and the
 * hashes are what Solidity's sha256(abi.encodePacked(...)) computes.
 */
import { hash } from 'node:crypto';

import { DsoError } from '../core/errors.js';

export interface MerkleProof {
  /** Position of the leaf among the batch's records. */
  index: number;
  /** Leaves in the tree. */
  count: number;
  /** Sibling hashes from the leaf level up; levels where the node moved up unpaired have none. */
  siblings: Uint8Array[];
}

// Scratch buffers for the prefixed inputs: hashing is synchronous, so one of each is enough.
const nodeInput = new Uint8Array(65);
nodeInput[0] = 0x01;
let leafInput = new Uint8Array(64);

function leafHash(leaf: Uint8Array): Uint8Array {
  if (leafInput.length < leaf.length + 1) leafInput = new Uint8Array(leaf.length + 1);
  leafInput[0] = 0x00;
  leafInput.set(leaf, 1);
  return hash('sha256', leafInput.subarray(0, leaf.length + 1), 'buffer');
}

function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1);
  nodeInput.set(right, 33);
  return hash('sha256', nodeInput, 'buffer');
}

/** Every level of the tree, leaves' hashes first, the root last. */
export function merkleLevels(leaves: readonly Uint8Array[]): Uint8Array[][] {
  if (leaves.length === 0) throw new DsoError('INVALID_COUNT', 'a Merkle tree needs at least one leaf');
  const levels = [leaves.map(leafHash)];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) up.push(nodeHash(below[i], below[i + 1]));
    if (below.length % 2 === 1) up.push(below[below.length - 1]);
    levels.push(up);
  }
  return levels;
}

export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  const levels = merkleLevels(leaves);
  return levels[levels.length - 1][0];
}

/** The inclusion proof of leaf `index`, from the levels merkleLevels() built. */
export function merkleProof(levels: readonly Uint8Array[][], index: number): MerkleProof {
  const count = levels[0].length;
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw new DsoError('INVALID_ARGUMENT', `leaf index ${index} is outside 0..${count - 1}`);
  const siblings: Uint8Array[] = [];
  let i = index;
  for (let l = 0; l < levels.length - 1; l++) {
    const level = levels[l];
    const sib = i ^ 1;
    if (sib < level.length) siblings.push(level[sib]);
    i >>= 1;
  }
  return { index, count, siblings };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `leaf` is at proof.index of a tree of proof.count leaves with this root. */
export function verifyMerkleProof(leaf: Uint8Array, proof: MerkleProof, root: Uint8Array): boolean {
  const { index, count, siblings } = proof;
  if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || index >= count) return false;
  let h = leafHash(leaf);
  let i = index;
  let n = count;
  let used = 0;
  while (n > 1) {
    const sib = i ^ 1;
    if (sib < n) {
      const s = siblings[used++];
      if (s === undefined || s.length !== 32) return false;
      h = i % 2 === 0 ? nodeHash(h, s) : nodeHash(s, h);
    }
    i >>= 1;
    n = Math.ceil(n / 2);
  }
  return used === siblings.length && equal(h, root);
}
