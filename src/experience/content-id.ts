/**
 * Content ids of experiences: a CIDv1 (dag-cbor, sha256), base32, of the
 * canonical encoding { v, domain, text }. Only what an experience *says* is
 * hashed, not who said it or when, so two nodes that learn the same sentence
 * in the same domain name it the same way, and votes on it count together.
 *
 * The encoding and the CID string are built by hand because ids are computed
 * for every experience ingested (tens of thousands a second): the bytes are
 * exactly @ipld/dag-cbor's and the string exactly multiformats' CID.toString(),
 * which the tests check against those libraries. It lives with the experience
 * it names; the aggregators, one layer up, key what nodes report by it.
 */
import { hash } from 'node:crypto';

import { DsoError } from '../core/errors.js';

const CANONICAL_VERSION = 1;
/** A lone UTF-16 surrogate: with the u flag, a well-formed pair is one code point and does not match. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether a string is well-formed UTF-16, i.e. has a UTF-8 encoding that
 * decodes back to it. A lone surrogate has none: UTF-8 carries it as U+FFFD,
 * so two different texts would share one id and a stored text would no longer
 * hash to its own.
 */
export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** A CBOR text-string head (major type 3) for a UTF-8 length, shortest form as DAG-CBOR requires. */
function textHead(len: number): number[] {
  if (len < 24) return [0x60 | len];
  if (len < 0x100) return [0x78, len];
  if (len < 0x10000) return [0x79, len >> 8, len & 0xff];
  return [0x7a, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff];
}

/** DAG-CBOR of { v: 1, domain, text }; map keys in DAG-CBOR order (shorter first): v, text, domain. */
function canonicalExperienceBytes(text: string, domain: string): Uint8Array {
  const tl = Buffer.byteLength(text, 'utf8');
  const dl = Buffer.byteLength(domain, 'utf8');
  const th = textHead(tl);
  const dh = textHead(dl);
  const out = Buffer.allocUnsafe(9 + th.length + tl + 7 + dh.length + dl);
  let o = 0;
  const put = (bytes: readonly number[]) => {
    for (const b of bytes) out[o++] = b;
  };
  put([0xa3, 0x61, 0x76, CANONICAL_VERSION, 0x64, 0x74, 0x65, 0x78, 0x74]); // map(3), "v": 1, "text"
  put(th);
  o += out.write(text, o, 'utf8');
  put([0x66, 0x64, 0x6f, 0x6d, 0x61, 0x69, 0x6e]); // "domain"
  put(dh);
  out.write(domain, o, 'utf8');
  return out;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, no padding: the multibase 'b' alphabet. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** CIDv1 bytes: version 1, codec dag-cbor (0x71), multihash sha2-256 (0x12, 32 bytes). */
function cidBytes(canonical: Uint8Array): Uint8Array {
  const out = new Uint8Array(36);
  out.set([0x01, 0x71, 0x12, 0x20]);
  // crypto.hash: one call, no Hash object per id.
  out.set(hash('sha256', canonical, 'buffer'), 4);
  return out;
}

/** The experience id: the base32 string ('b' multibase prefix) of the CID of its canonical encoding. */
export function experienceId(text: string, domain: string): string {
  if (!isWellFormedText(text) || !isWellFormedText(domain))
    throw new DsoError('INVALID_EXPERIENCE', 'an experience text or domain holds a lone UTF-16 surrogate, which has no UTF-8 encoding');
  return `b${base32(cidBytes(canonicalExperienceBytes(text, domain)))}`;
}
