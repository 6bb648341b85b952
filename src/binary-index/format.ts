/**
 * The BinaryIndex file (docs/format.md): a 32-byte header, the sections, and
 * a CRC-32 trailer over everything before it. Saving writes a temporary file
 * beside the target, fsyncs it, renames it over the target and fsyncs the
 * directory, so a crash leaves either the old file or the new one, never a
 * mix; temporaries of killed saves are removed at the next save or load.
 * Loading checks magic, version, size and checksum before using a byte, then
 * the contents (labels ascending, scales and vectors finite), identically
 * whether the file is read or mapped.
 */
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';

import { bytesPerRow, firstNonFinite } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { openRegularFile, requireRegularFile } from '../core/files.js';
import { removeStaleTemps, tempPathFor } from '../core/temp-files.js';
import { loadAddon } from '../simd/addon.js';
import { strictlyIncreasing } from './labels.js';

const MAGIC = 'DSOBIDX\0';
const VERSION = 1;
const HEADER_BYTES = 32;
const TRAILER_BYTES = 8;
const FLAG_SCALES = 1;
const FLAG_VECTORS = 2;
const FLAG_BASELINE = 4;
const TRAILER_MAGIC = 0x45534f44; // 'DOSE' little-endian: marks a complete file

export interface IndexRows {
  dim: number;
  codes: Uint8Array;
  labels: BigInt64Array;
  scales?: Float32Array;
  vectors?: Float32Array;
  /** The baseline subtracted before packing (dim floats), for quantizing queries alike. */
  baseline?: Float32Array;
}

function sections(r: IndexRows): Uint8Array[] {
  const parts: Uint8Array[] = [r.codes];
  const pad = (8 - (r.codes.byteLength % 8)) % 8;
  if (pad) parts.push(new Uint8Array(pad));
  parts.push(new Uint8Array(r.labels.buffer, r.labels.byteOffset, r.labels.byteLength));
  if (r.scales) parts.push(new Uint8Array(r.scales.buffer, r.scales.byteOffset, r.scales.byteLength));
  if (r.vectors) parts.push(new Uint8Array(r.vectors.buffer, r.vectors.byteOffset, r.vectors.byteLength));
  if (r.baseline) parts.push(new Uint8Array(r.baseline.buffer, r.baseline.byteOffset, r.baseline.byteLength));
  return parts;
}

function layout(dim: number, count: number, flags: number) {
  const codes = count * bytesPerRow(dim);
  const labelsAt = HEADER_BYTES + codes + ((8 - (codes % 8)) % 8);
  const scalesAt = labelsAt + count * 8;
  const vectorsAt = scalesAt + (flags & FLAG_SCALES ? count * 4 : 0);
  const baselineAt = vectorsAt + (flags & FLAG_VECTORS ? count * dim * 4 : 0);
  const end = baselineAt + (flags & FLAG_BASELINE ? dim * 4 : 0);
  return { codes, labelsAt, scalesAt, vectorsAt, baselineAt, size: end + TRAILER_BYTES, body: end };
}

export async function writeIndexFile(file: string, r: IndexRows): Promise<void> {
  const count = r.labels.length;
  const flags = (r.scales ? FLAG_SCALES : 0) | (r.vectors ? FLAG_VECTORS : 0) | (r.baseline ? FLAG_BASELINE : 0);
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(VERSION, 8);
  header.writeUInt32LE(flags, 12);
  header.writeUInt32LE(r.dim, 16);
  header.writeBigUInt64LE(BigInt(count), 24);
  await checkTarget(file);
  removeStaleTemps(file);
  const tmp = tempPathFor(file);
  let fh;
  try {
    fh = await open(tmp, 'wx', 0o644);
    let crc = crc32(header);
    await fh.write(header);
    for (const part of sections(r)) {
      // Chunked so huge sections never need one contiguous Buffer copy.
      for (let off = 0; off < part.byteLength; off += 64 << 20) {
        const chunk = part.subarray(off, Math.min(part.byteLength, off + (64 << 20)));
        crc = crc32(chunk, crc);
        await fh.write(chunk);
      }
    }
    const trailer = Buffer.alloc(TRAILER_BYTES);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(TRAILER_MAGIC, 4);
    await fh.write(trailer);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, file);
    const dir = await open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true });
    if (e instanceof DsoError) throw e;
    throw new DsoError('IO_ERROR', `could not save the index to ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** A save may replace a regular file (or nothing), never a directory, FIFO or device of that name. */
async function checkTarget(file: string): Promise<void> {
  let st;
  try {
    st = await stat(file);
  } catch {
    return;
  }
  requireRegularFile(st, file);
}

const corrupt = (file: string, why: string) => new DsoError('CORRUPT_INDEX', `${file} is not a usable index file: ${why}`);

/** Checks the header against the file's size; returns its fields and the section layout. */
function parseHeader(header: Buffer, size: number, file: string) {
  if (size < HEADER_BYTES + TRAILER_BYTES) throw corrupt(file, `${size} bytes is shorter than a header and trailer`);
  if (header.toString('latin1', 0, 8) !== MAGIC) throw corrupt(file, 'wrong magic (not a dso-engine index)');
  const version = header.readUInt32LE(8);
  if (version !== VERSION) throw corrupt(file, `format version ${version}, this build reads version ${VERSION}`);
  const flags = header.readUInt32LE(12);
  const dim = header.readUInt32LE(16);
  const count = Number(header.readBigUInt64LE(24));
  if (dim < 1 || flags & ~(FLAG_SCALES | FLAG_VECTORS | FLAG_BASELINE) || !Number.isSafeInteger(count)) {
    throw corrupt(file, 'invalid header fields');
  }
  if (header.readUInt32LE(20) !== 0) throw corrupt(file, 'the reserved header field is not 0');
  const l = layout(dim, count, flags);
  if (l.size !== size)
    throw corrupt(file, `expected ${l.size} bytes for ${count} rows of dim ${dim}, found ${size} (truncated or altered)`);
  return { flags, dim, count, l };
}

function checkTrailer(trailer: Buffer, crc: number, file: string): void {
  if (trailer.readUInt32LE(4) !== TRAILER_MAGIC) throw corrupt(file, 'missing end marker (incomplete write)');
  if (trailer.readUInt32LE(0) !== crc >>> 0) throw corrupt(file, 'checksum mismatch (altered contents)');
}

/**
 * What a checksum cannot vouch for (a file written by something else than
 * save): labels strictly ascending, as rows are stored in label order;
 * scales finite and >= 0; vectors and baseline finite.
 */
function checkContents(r: IndexRows, file: string): IndexRows {
  if (!strictlyIncreasing(r.labels)) throw corrupt(file, 'labels are not strictly increasing (duplicate or out of order)');
  if (r.scales) {
    const bad = firstNonFinite(r.scales);
    if (bad >= 0) throw corrupt(file, `scale ${bad} is ${r.scales[bad]}`);
    const negative = r.scales.findIndex((v) => v < 0);
    if (negative >= 0) throw corrupt(file, `scale ${negative} is negative`);
  }
  for (const [name, values] of [
    ['vector', r.vectors],
    ['baseline', r.baseline],
  ] as const) {
    const bad = values ? firstNonFinite(values) : -1;
    if (bad >= 0) throw corrupt(file, `${name} value ${bad} is ${values![bad]}`);
  }
  return r;
}

export async function readIndexFile(file: string): Promise<IndexRows> {
  removeStaleTemps(file);
  const { fh, size } = await openRegularFile(file);
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    await fh.read(header, 0, Math.min(HEADER_BYTES, size), 0);
    const { flags, dim, count, l } = parseHeader(header, size, file);
    const body = new Uint8Array(new SharedArrayBuffer(l.body - HEADER_BYTES));
    let crc = crc32(header);
    for (let off = 0; off < body.byteLength; off += 64 << 20) {
      const chunk = body.subarray(off, Math.min(body.byteLength, off + (64 << 20)));
      const { bytesRead } = await fh.read(chunk, 0, chunk.byteLength, HEADER_BYTES + off);
      if (bytesRead !== chunk.byteLength) throw corrupt(file, 'short read');
      crc = crc32(chunk, crc);
    }
    const trailer = Buffer.alloc(TRAILER_BYTES);
    await fh.read(trailer, 0, TRAILER_BYTES, l.body);
    checkTrailer(trailer, crc, file);
    const at = (o: number) => o - HEADER_BYTES;
    const buf = body.buffer;
    return checkContents(
      {
        dim,
        codes: new Uint8Array(buf, 0, l.codes),
        labels: new BigInt64Array(buf, at(l.labelsAt), count),
        scales: flags & FLAG_SCALES ? new Float32Array(buf, at(l.scalesAt), count) : undefined,
        vectors: flags & FLAG_VECTORS ? new Float32Array(buf, at(l.vectorsAt), count * dim) : undefined,
        baseline: flags & FLAG_BASELINE ? new Float32Array(buf, at(l.baselineAt), dim) : undefined,
      },
      file,
    );
  } finally {
    await fh.close();
  }
}

/**
 * Maps an index file instead of reading it: the checks are the same (the
 * checksum pass reads the file once through the page cache), but codes,
 * labels and vectors stay views of the mapping (a SharedArrayBuffer that
 * every worker thread sees), not copies.
 */
export function mapIndexFile(file: string): IndexRows {
  removeStaleTemps(file);
  const map = loadAddon().mapFile(file);
  const bytes = new Uint8Array(map);
  const { flags, dim, count, l } = parseHeader(Buffer.from(map, 0, Math.min(HEADER_BYTES, bytes.length)), bytes.length, file);
  let crc = 0;
  for (let off = 0; off < l.body; off += 64 << 20) crc = crc32(bytes.subarray(off, Math.min(l.body, off + (64 << 20))), crc);
  checkTrailer(Buffer.from(map, l.body, TRAILER_BYTES), crc, file);
  return checkContents(
    {
      dim,
      codes: new Uint8Array(map, HEADER_BYTES, l.codes),
      labels: new BigInt64Array(map, l.labelsAt, count),
      scales: flags & FLAG_SCALES ? new Float32Array(map, l.scalesAt, count) : undefined,
      vectors: flags & FLAG_VECTORS ? new Float32Array(map, l.vectorsAt, count * dim) : undefined,
      baseline: flags & FLAG_BASELINE ? new Float32Array(map, l.baselineAt, dim) : undefined,
    },
    file,
  );
}
