/**
 * Vector files people have, read in row batches without loading the file:
 * .npy (float32 or uint8 packed codes, C order), .fvecs and .bvecs (the
 * ANN-benchmark formats: an int32 dim before every row), raw .f32 (needs dim)
 * and raw packed codes (.codes/.u8/.bin, needs dim in bits).
 */
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { bytesPerRow } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { openRegularFile } from '../core/files.js';

export type RowKind = 'float32' | 'uint8' | 'codes';

export interface VectorFile {
  kind: RowKind;
  /** Values per row (floats or bytes); for codes, the dim in bits. */
  dim: number;
  rows: number;
  /** Rows [start, start + count) as float32 values (float32/uint8 files) or packed codes. */
  read(start: number, count: number): Promise<Float32Array | Uint8Array>;
  /** What was done to the values on the way in, for the caller to tell the user (e.g. float64 narrowed to float32). */
  conversion?: string;
  close(): Promise<void>;
}

const bad = (file: string, why: string) => new DsoError('INVALID_ARGUMENT', `${file}: ${why}`);

/** float32 values at `pos`, viewing the freshly read buffer rather than copying it. */
async function floatsAt(fh: FileHandle, pos: number, count: number, file: string): Promise<Float32Array> {
  const buf = await readAt(fh, pos, count * 4, file);
  return new Float32Array(buf.buffer, buf.byteOffset, count);
}

async function readAt(fh: FileHandle, pos: number, len: number, file: string): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, pos);
  if (bytesRead !== len) throw bad(file, `truncated: wanted ${len} bytes at ${pos}, got ${bytesRead}`);
  return buf;
}

function parseNpyHeader(header: string, file: string): { descr: string; rows: number; cols: number } {
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shape === undefined) throw bad(file, 'unreadable .npy header');
  if (fortran === 'True') throw bad(file, 'Fortran-order .npy arrays are not supported; save with order C');
  const dims = shape
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (dims.length !== 2 || dims.some((d) => !Number.isSafeInteger(d))) throw bad(file, `expected a 2-D array, shape (${shape})`);
  return { descr, rows: dims[0], cols: dims[1] };
}

export async function openVectors(file: string, opts: { dim?: number } = {}): Promise<VectorFile> {
  const ext = path.extname(file).toLowerCase();
  const { fh, size } = await openRegularFile(file);
  const done = (v: Omit<VectorFile, 'close'>): VectorFile => ({ ...v, close: () => fh.close() });
  try {
    if (ext === '.npy') {
      const pre = await readAt(fh, 0, 12, file);
      if (pre.toString('latin1', 0, 6) !== '\x93NUMPY') throw bad(file, 'not a .npy file');
      const major = pre[6];
      const headerLen = major === 1 ? pre.readUInt16LE(8) : pre.readUInt32LE(8);
      const start = major === 1 ? 10 : 12;
      const h = parseNpyHeader((await readAt(fh, start, headerLen, file)).toString('latin1'), file);
      const data = start + headerLen;
      if (h.descr === '<f4') {
        if (size < data + h.rows * h.cols * 4) throw bad(file, 'truncated .npy data');
        return done({
          kind: 'float32',
          dim: h.cols,
          rows: h.rows,
          read: (s, c) => floatsAt(fh, data + s * h.cols * 4, c * h.cols, file),
        });
      }
      if (h.descr === '<f8') {
        if (size < data + h.rows * h.cols * 8) throw bad(file, 'truncated .npy data');
        return done({
          kind: 'float32',
          dim: h.cols,
          rows: h.rows,
          conversion: 'float64 values converted to float32 (signs and scales need no more precision)',
          read: async (s, c) => {
            const buf = await readAt(fh, data + s * h.cols * 8, c * h.cols * 8, file);
            return Float32Array.from(new Float64Array(buf.buffer, buf.byteOffset, c * h.cols));
          },
        });
      }
      if (h.descr === '|u1') {
        const dim = opts.dim ?? h.cols * 8;
        if (bytesPerRow(dim) !== h.cols)
          throw bad(file, `uint8 rows of ${h.cols} bytes are packed codes of ${h.cols * 8} bits, not dim ${dim}`);
        if (size < data + h.rows * h.cols) throw bad(file, 'truncated .npy data');
        return done({
          kind: 'codes',
          dim,
          rows: h.rows,
          read: async (s, c) => new Uint8Array(await readAt(fh, data + s * h.cols, c * h.cols, file)),
        });
      }
      throw bad(file, `dtype ${h.descr} is not supported (float32 '<f4' or float64 '<f8' vectors, or uint8 '|u1' packed codes)`);
    }
    if (ext === '.fvecs' || ext === '.bvecs') {
      const width = ext === '.fvecs' ? 4 : 1;
      const d = (await readAt(fh, 0, 4, file)).readInt32LE(0);
      if (d < 1) throw bad(file, `invalid dimension ${d}`);
      const stride = 4 + d * width;
      if (size % stride !== 0) throw bad(file, `size ${size} is not a whole number of ${stride}-byte rows (truncated?)`);
      return done({
        kind: ext === '.fvecs' ? 'float32' : 'uint8',
        dim: d,
        rows: size / stride,
        read: async (s, c) => {
          const buf = await readAt(fh, s * stride, c * stride, file);
          const out = new Float32Array(c * d);
          for (let r = 0; r < c; r++) {
            if (buf.readInt32LE(r * stride) !== d)
              throw bad(file, `row ${s + r} has dimension ${buf.readInt32LE(r * stride)}, expected ${d}`);
            for (let j = 0; j < d; j++) out[r * d + j] = width === 4 ? buf.readFloatLE(r * stride + 4 + 4 * j) : buf[r * stride + 4 + j];
          }
          return out;
        },
      });
    }
    if (opts.dim === undefined) throw bad(file, `raw ${ext || 'files'} need --dim`);
    const dim = opts.dim;
    if (ext === '.f32') {
      if (size % (dim * 4) !== 0) throw bad(file, `size ${size} is not a whole number of ${dim}-float rows`);
      return done({ kind: 'float32', dim, rows: size / (dim * 4), read: (s, c) => floatsAt(fh, s * dim * 4, c * dim, file) });
    }
    if (ext === '.codes' || ext === '.u8' || ext === '.bin') {
      const B = bytesPerRow(dim);
      if (size % B !== 0) throw bad(file, `size ${size} is not a whole number of ${B}-byte code rows`);
      return done({ kind: 'codes', dim, rows: size / B, read: async (s, c) => new Uint8Array(await readAt(fh, s * B, c * B, file)) });
    }
    throw bad(file, `unknown extension '${ext}' (.npy, .fvecs, .bvecs, .f32, .codes/.u8/.bin)`);
  } catch (e) {
    await fh.close();
    throw e;
  }
}
