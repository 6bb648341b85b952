/**
 * Content ids of experiences: a CIDv1 (dag-cbor, sha256) of the canonical
 * encoding { v, domain, text }. Only what an experience *says* is hashed, not
 * who said it or when, so two nodes that learn the same sentence in the same
 * domain name it the same way, and votes on it can be counted together.
 */
import { createHash } from 'node:crypto';

import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { sha256 } from 'multiformats/hashes/sha2';

const CANONICAL_VERSION = 1;

export function canonicalExperienceBytes(text: string, domain: string): Uint8Array {
  return dagCbor.encode({ v: CANONICAL_VERSION, domain, text });
}

export function cidOf(bytes: Uint8Array): CID {
  // Hashed here rather than through sha256.digest(), whose return type may be a Promise.
  const digest = Digest.create(sha256.code, createHash('sha256').update(bytes).digest());
  return CID.createV1(dagCbor.code, digest);
}

/** The experience id: base32 CIDv1 string of its canonical encoding. */
export function experienceId(text: string, domain: string): string {
  return cidOf(canonicalExperienceBytes(text, domain)).toString();
}
