/**
 * Shape checks every backend relies on, done in TS before any backend runs
 * (the native addon repeats them independently). Each returns the derived
 * shape so callers never recompute it.
 */
import { DsoError, type DsoErrorCode } from './errors.js';

const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * Most results one top-k call returns (nq x k ids and as many distances:
 * 1 GiB). The result is nq x k whatever n is (-1 past the rows), so this
 * bounds k as well; native/src/args.h holds the same bound.
 */
export const MAX_RESULTS = 2 ** 27;

/** TOO_LARGE unless nq x k results fit MAX_RESULTS. */
export function checkResults(nq: number, k: number): void {
  if (nq * k > MAX_RESULTS) throw new DsoError('TOO_LARGE', `queries x k = ${nq} x ${k} exceeds ${MAX_RESULTS} results`);
}

export function bytesPerRow(dim: number): number {
  return Math.ceil(dim / 8);
}

/**
 * Array.isArray for a parameter typed as a (readonly) array that callers may
 * still pass anything: unlike Array.isArray, which narrows a readonly array to
 * any[], it keeps the element type.
 */
export const isArray: (v: unknown) => v is readonly unknown[] = Array.isArray;

function typed<T extends ArrayBufferView>(v: unknown, ctor: { new (...a: never[]): T; name: string }, name: string): T {
  if (!(v instanceof ctor)) {
    const got = v === null ? 'null' : ArrayBuffer.isView(v) ? v.constructor.name : typeof v;
    throw new DsoError('INVALID_ARGUMENT', `${name} must be a ${ctor.name}, got ${got}`);
  }
  if (detachedView(v)) throw new DsoError('DETACHED_BUFFER', `${name} is backed by a detached ArrayBuffer`);
  return v;
}

/** Whether `v`'s buffer was detached (transferred away): it then reports byteLength 0, and `detached` where the runtime knows it. */
export function detachedView(v: ArrayBufferView): boolean {
  const buf = v.buffer as ArrayBuffer & { detached?: boolean };
  return buf.detached === true || (buf.byteLength === 0 && v.byteOffset === 0 && isDetached(buf));
}

function isDetached(buf: ArrayBuffer): boolean {
  if (buf instanceof SharedArrayBuffer) return false;
  try {
    new Uint8Array(buf);
    return false;
  } catch {
    return true;
  }
}

export const floats = (v: unknown, name: string) => typed(v, Float32Array, name);
export const bytes = (v: unknown, name: string) => typed(v, Uint8Array, name);

/** Index of the first NaN or infinite value, or -1; a bit test per value (exponent all ones), no float compare. */
export function firstNonFinite(a: Float32Array): number {
  const bits = new Int32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < bits.length; i++) if ((bits[i] & 0x7f800000) === 0x7f800000) return i;
  return -1;
}

function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return (
    a.buffer === b.buffer &&
    a.byteLength > 0 &&
    b.byteLength > 0 &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength
  );
}

/**
 * An output array the caller provides (`out`): of the result's type, not
 * detached, not resizable, exactly `length` elements, and sharing no memory
 * with `others` (the inputs and the other outputs), which the kernels read
 * while they write.
 */
export function outArray<T extends ArrayBufferView & { length: number }>(
  v: unknown,
  ctor: { new (...a: never[]): T; name: string },
  length: number,
  name: string,
  others: Record<string, ArrayBufferView | undefined>,
): T {
  const a = typed(v, ctor, name);
  // A resizable ArrayBuffer can shrink in place while a kernel writes (a growable SharedArrayBuffer, not `resizable`, only grows).
  if ((a.buffer as ArrayBuffer & { resizable?: boolean }).resizable === true) {
    throw new DsoError('INVALID_ARGUMENT', `${name} is backed by a resizable ArrayBuffer, which can shrink under the kernel`);
  }
  if (a.length !== length) throw new DsoError('LENGTH_MISMATCH', `${name} must hold ${length} elements, got ${a.length}`);
  for (const [other, b] of Object.entries(others)) {
    if (b !== undefined && overlaps(a, b)) throw new DsoError('INVALID_ARGUMENT', `${name} overlaps ${other}`);
  }
  return a;
}

function outObject(v: unknown, fields: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object') throw new DsoError('INVALID_ARGUMENT', `out must be an object { ${fields} }`);
  return v as Record<string, unknown>;
}

export function wholeNumber(v: unknown, name: string, code: DsoErrorCode, min: number, max = MAX_ELEMENTS): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new DsoError(code, `${name} must be an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

function describe(v: unknown): string {
  return typeof v === 'number' ? String(v) : v === undefined ? 'undefined' : typeof v;
}

export interface PackShape {
  rows: number;
  dim: number;
  groupSize: number;
  groups: number;
  bytesPerRow: number;
}

export interface PackParams {
  dim: number;
  groupSize?: number;
  baseline?: Float32Array;
}

function packParams(p: PackParams | undefined): Omit<PackShape, 'rows'> & { baseline?: Float32Array } {
  if (p === null || typeof p !== 'object') throw new DsoError('INVALID_ARGUMENT', 'options { dim } are required');
  const dim = wholeNumber(p.dim, 'dim', 'INVALID_DIM', 1);
  const groupSize = p.groupSize === undefined ? dim : wholeNumber(p.groupSize, 'groupSize', 'INVALID_GROUP_SIZE', 1, dim);
  let baseline: Float32Array | undefined;
  if (p.baseline !== undefined) {
    baseline = floats(p.baseline, 'baseline');
    if (baseline.length !== dim) {
      throw new DsoError('LENGTH_MISMATCH', `baseline must hold dim = ${dim} values, got ${baseline.length}`);
    }
  }
  return { dim, groupSize, groups: Math.ceil(dim / groupSize), bytesPerRow: bytesPerRow(dim), baseline };
}

export function checkQuantize(x: unknown, p: PackParams) {
  const xs = floats(x, 'x');
  const s = packParams(p);
  if (xs.length % s.dim !== 0) {
    throw new DsoError('LENGTH_MISMATCH', `x.length (${xs.length}) is not a multiple of dim (${s.dim})`);
  }
  return { x: xs, shape: { ...s, rows: xs.length / s.dim }, baseline: s.baseline };
}

export function checkDequantize(q: { codes: unknown; scales: unknown }, p: PackParams) {
  if (q === null || typeof q !== 'object') throw new DsoError('INVALID_ARGUMENT', 'expected { codes, scales }');
  const codes = bytes(q.codes, 'codes');
  const scales = floats(q.scales, 'scales');
  const s = packParams(p);
  if (scales.length % s.groups !== 0) {
    throw new DsoError('LENGTH_MISMATCH', `scales.length (${scales.length}) is not a multiple of the ${s.groups} groups per row`);
  }
  const rows = scales.length / s.groups;
  if (codes.length !== rows * s.bytesPerRow) {
    throw new DsoError(
      'LENGTH_MISMATCH',
      `codes.length must be rows x ceil(dim/8) = ${rows * s.bytesPerRow} for ${rows} rows of scales, got ${codes.length}`,
    );
  }
  for (let i = 0; i < scales.length; i++) {
    const v = scales[i];
    if (!Number.isFinite(v) || v < 0) {
      throw new DsoError('INVALID_SCALE', `scales must be finite and >= 0; index ${i} holds ${v}`);
    }
  }
  return { codes, scales, shape: { ...s, rows }, baseline: s.baseline };
}

/** quantize's `out`: { codes, scales } for the shape's rows. */
export function checkQuantizeOut(out: unknown, x: Float32Array, s: PackShape, baseline?: Float32Array) {
  const o = outObject(out, 'codes, scales');
  const codes = outArray(o.codes, Uint8Array, s.rows * s.bytesPerRow, 'out.codes', { x, baseline });
  const scales = outArray(o.scales, Float32Array, s.rows * s.groups, 'out.scales', { x, baseline, 'out.codes': codes });
  return { codes, scales };
}

/** hammingTopK's `out`: { ids, distances }, nq x k each. */
export function checkTopKOut(out: unknown, base: Uint8Array, queries: Uint8Array, nq: number, k: number) {
  const o = outObject(out, 'ids, distances');
  const ids = outArray(o.ids, Int32Array, nq * k, 'out.ids', { base, queries });
  const distances = outArray(o.distances, Int32Array, nq * k, 'out.distances', { base, queries, 'out.ids': ids });
  return { ids, distances };
}

/** Rows of packed codes of `dim` bits in `c`, or LENGTH_MISMATCH. */
function codeRows(c: Uint8Array, name: string, dim: number): number {
  const B = bytesPerRow(dim);
  if (c.length % B !== 0) {
    throw new DsoError('LENGTH_MISMATCH', `${name}.length (${c.length}) is not a multiple of ceil(dim/8) = ${B}`);
  }
  return c.length / B;
}

export function checkCodes(codes: unknown, p: { dim: number }) {
  if (p === null || typeof p !== 'object') throw new DsoError('INVALID_ARGUMENT', 'options { dim } are required');
  const c = bytes(codes, 'codes');
  const dim = wholeNumber(p.dim, 'dim', 'INVALID_DIM', 1);
  return { codes: c, dim, n: codeRows(c, 'codes', dim) };
}

export function checkHamming(base: unknown, queries: unknown, p: { dim: number; k: number }) {
  if (p === null || typeof p !== 'object') throw new DsoError('INVALID_ARGUMENT', 'options { dim, k } are required');
  const b = bytes(base, 'base');
  const q = bytes(queries, 'queries');
  const dim = wholeNumber(p.dim, 'dim', 'INVALID_DIM', 1);
  const k = wholeNumber(p.k, 'k', 'INVALID_K', 1);
  const n = codeRows(b, 'base', dim);
  const nq = codeRows(q, 'queries', dim);
  checkResults(nq, k);
  return { base: b, queries: q, dim, k, n, nq };
}

export function checkColumns(rows: unknown, p: { n: number }) {
  if (p === null || typeof p !== 'object') throw new DsoError('INVALID_ARGUMENT', 'options { n } are required');
  const r = floats(rows, 'rows');
  const n = wholeNumber(p.n, 'n', 'INVALID_COUNT', 1);
  if (r.length % n !== 0) {
    throw new DsoError('LENGTH_MISMATCH', `rows.length (${r.length}) is not a multiple of n (${n})`);
  }
  return { rows: r, n, d: r.length / n };
}

export function checkTrim(trim: unknown): number {
  if (typeof trim !== 'number' || !(trim >= 0 && trim < 0.5)) {
    throw new DsoError('INVALID_TRIM', `trim must be a number in [0, 0.5), got ${describe(trim)}`);
  }
  return trim;
}

export function checkMajority(codes: unknown, p: { n: number; dim: number }) {
  if (p === null || typeof p !== 'object') throw new DsoError('INVALID_ARGUMENT', 'options { n, dim } are required');
  const c = bytes(codes, 'codes');
  const n = wholeNumber(p.n, 'n', 'INVALID_COUNT', 1);
  const dim = wholeNumber(p.dim, 'dim', 'INVALID_DIM', 1);
  if (c.length !== n * bytesPerRow(dim)) {
    throw new DsoError('LENGTH_MISMATCH', `codes.length must be n x ceil(dim/8) = ${n * bytesPerRow(dim)}, got ${c.length}`);
  }
  return { codes: c, n, dim };
}

export function checkCosine(vectors: unknown, rows: unknown, queries: unknown, p: { dim: number }) {
  if (p === null || typeof p !== 'object') throw new DsoError('INVALID_ARGUMENT', 'options { dim } are required');
  const v = floats(vectors, 'vectors');
  const q = floats(queries, 'queries');
  const r = typed(rows, Int32Array, 'rows');
  const dim = wholeNumber(p.dim, 'dim', 'INVALID_DIM', 1);
  if (v.length % dim !== 0) throw new DsoError('LENGTH_MISMATCH', `vectors.length (${v.length}) is not a multiple of dim (${dim})`);
  if (q.length % dim !== 0) throw new DsoError('LENGTH_MISMATCH', `queries.length (${q.length}) is not a multiple of dim (${dim})`);
  const n = v.length / dim;
  const nq = q.length / dim;
  if (nq === 0 ? r.length !== 0 : r.length % nq !== 0) {
    throw new DsoError('LENGTH_MISMATCH', `rows.length (${r.length}) must be queries (${nq}) x candidates`);
  }
  for (let i = 0; i < r.length; i++) {
    if (r[i] < -1 || r[i] >= n) throw new DsoError('INVALID_ARGUMENT', `rows[${i}] = ${r[i]} is not -1 or a row below ${n}`);
  }
  return { vectors: v, rows: r, queries: q, dim };
}
