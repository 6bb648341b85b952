/**
 * The wire encoding of a compressed experience: deterministic DAG-CBOR, with
 * the signs as a byte string (one bit per dimension) and the scales as
 * little-endian float32 bytes (CBOR would spend 9 bytes on each float64).
 * Decoding checks every length against dim and groupSize.
 */
import * as dagCbor from '@ipld/dag-cbor';

import { bytesPerRow } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { type CompressedExperience, MAX_DOMAIN_BYTES, MAX_TEXT_BYTES } from './record.js';

const WIRE_VERSION = 1;
/**
 * Largest record block: its text and domain at their limits, and the code
 * and scales of a 4,096-dim embedding with a scale per 8 dims, fit many times
 * over. Only a record under it is decoded, so a peer cannot make honest nodes
 * keep (and serve) megabyte records.
 */
export const MAX_RECORD_BYTES = 64 << 10;

/** Throws INVALID_EXPERIENCE unless text and domain are non-empty and within their byte limits. */
function checkTextFields(text: string, domain: string): void {
  const t = Buffer.byteLength(text, 'utf8');
  if (t === 0 || t > MAX_TEXT_BYTES)
    throw new DsoError('INVALID_EXPERIENCE', `compressed record: text has ${t} bytes, expected 1 to ${MAX_TEXT_BYTES}`);
  const d = Buffer.byteLength(domain, 'utf8');
  if (d === 0 || d > MAX_DOMAIN_BYTES)
    throw new DsoError('INVALID_EXPERIENCE', `compressed record: domain has ${d} bytes, expected 1 to ${MAX_DOMAIN_BYTES}`);
}

function f32le(v: Float32Array): Uint8Array {
  const out = new Uint8Array(v.length * 4);
  const dv = new DataView(out.buffer);
  v.forEach((x, i) => dv.setFloat32(i * 4, x, true));
  return out;
}

function fromF32le(b: Uint8Array): Float32Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Float32Array.from({ length: b.byteLength / 4 }, (_, i) => dv.getFloat32(i * 4, true));
}

/**
 * Encodes a record. `float32Embedding` replaces signs and scales with the
 * full embedding: the baseline that compression is measured against.
 */
export function encodeCompressed(r: CompressedExperience, float32Embedding?: Float32Array): Uint8Array {
  // What peers would refuse is refused here, before it is signed and published.
  checkTextFields(r.text, r.domain);
  const body = float32Embedding
    ? { embedding: f32le(float32Embedding) }
    : { code: r.code, scales: f32le(r.scales), groupSize: r.groupSize };
  return dagCbor.encode({
    v: WIRE_VERSION,
    text: r.text,
    domain: r.domain,
    confidence: r.confidence,
    epoch: r.epoch,
    source: r.source,
    createdAt: r.createdAt,
    dim: r.dim,
    ...body,
  });
}

function field<T>(o: Record<string, unknown>, k: string, check: (v: unknown) => v is T): T {
  const v = o[k];
  if (!check(v)) throw new DsoError('MALFORMED_RECORD', `compressed record: field '${k}' is missing or has the wrong type`);
  return v;
}
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

/** DAG-CBOR bytes decoded, or MALFORMED_RECORD naming `what` they were meant to be; the shape is the caller's to check. */
export function decodeDagCbor<T = unknown>(bytes: Uint8Array, what: string): T {
  try {
    return dagCbor.decode<T>(bytes);
  } catch (e) {
    throw new DsoError('MALFORMED_RECORD', `${what} is not valid DAG-CBOR: ${(e as Error).message}`, { cause: e });
  }
}

/** Decodes a record written by encodeCompressed (the compressed form); `id` is the experience id it carries. */
export function decodeCompressed(bytes: Uint8Array, id: string): CompressedExperience {
  if (bytes.byteLength > MAX_RECORD_BYTES)
    throw new DsoError('TOO_LARGE', `compressed record has ${bytes.byteLength} bytes, more than the ${MAX_RECORD_BYTES} allowed`);
  const o = decodeDagCbor(bytes, 'compressed record');
  if (o === null || typeof o !== 'object') throw new DsoError('MALFORMED_RECORD', 'compressed record must be a CBOR map');
  const m = o as Record<string, unknown>;
  if (m.v !== WIRE_VERSION) throw new DsoError('MALFORMED_RECORD', `compressed record version ${String(m.v)} is not ${WIRE_VERSION}`);
  const dim = field(m, 'dim', isInt);
  const groupSize = field(m, 'groupSize', isInt);
  if (dim < 1 || groupSize < 1 || groupSize > dim)
    throw new DsoError('INVALID_DIM', `compressed record: dim ${dim}, groupSize ${groupSize}`);
  const code = field(m, 'code', isBytes);
  const scalesBytes = field(m, 'scales', isBytes);
  if (code.byteLength !== bytesPerRow(dim))
    throw new DsoError('LENGTH_MISMATCH', `compressed record: code has ${code.byteLength} bytes, dim ${dim} needs ${bytesPerRow(dim)}`);
  if (scalesBytes.byteLength !== 4 * Math.ceil(dim / groupSize)) {
    throw new DsoError(
      'LENGTH_MISMATCH',
      `compressed record: scales have ${scalesBytes.byteLength} bytes, expected ${4 * Math.ceil(dim / groupSize)}`,
    );
  }
  if (dim % 8 !== 0 && code[code.length - 1] >> (dim % 8) !== 0)
    throw new DsoError('MALFORMED_RECORD', 'compressed record: padding bits of the code are not zero');
  const scales = fromF32le(scalesBytes);
  if (!scales.every((s) => Number.isFinite(s) && s >= 0))
    throw new DsoError('NON_FINITE', 'compressed record: scales must be finite and non-negative');
  const confidence = field(m, 'confidence', isNum);
  if (confidence < 0 || confidence > 1)
    throw new DsoError('MALFORMED_RECORD', `compressed record: confidence ${confidence} is outside [0, 1]`);
  const text = field(m, 'text', isStr);
  const domain = field(m, 'domain', isStr);
  checkTextFields(text, domain);
  return {
    id,
    text,
    domain,
    confidence,
    epoch: field(m, 'epoch', isInt),
    source: field(m, 'source', isStr),
    createdAt: field(m, 'createdAt', isNum),
    dim,
    groupSize,
    code: new Uint8Array(code),
    scales,
  };
}
