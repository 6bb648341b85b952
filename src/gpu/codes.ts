/**
 * Byte-row codes (ceil(dim/8) bytes per row) <-> u32-word rows (ceil(dim/32)
 * words per row), the layout the shaders index. When the byte rows are whole
 * words already (dim a multiple of 32) and aligned, no copy is made.
 */
import { bytesPerRow } from '../core/checks.js';

export function wordsPerRow(dim: number): number {
  return Math.ceil(dim / 32);
}

export function lastWordMask(dim: number): number {
  const bits = dim - 32 * (wordsPerRow(dim) - 1);
  return bits === 32 ? 0xffffffff : (2 ** bits - 1) >>> 0;
}

export function toWordRows(codes: Uint8Array, rows: number, dim: number): Uint32Array {
  const B = bytesPerRow(dim);
  const W = wordsPerRow(dim);
  if (B === W * 4 && codes.byteOffset % 4 === 0) return new Uint32Array(codes.buffer, codes.byteOffset, rows * W);
  const out = new Uint32Array(rows * W);
  const bytes = new Uint8Array(out.buffer);
  for (let r = 0; r < rows; r++) bytes.set(codes.subarray(r * B, r * B + B), r * W * 4);
  return out;
}

export function fromWordRows(words: Uint8Array, rows: number, dim: number): Uint8Array {
  const B = bytesPerRow(dim);
  const W4 = wordsPerRow(dim) * 4;
  if (B === W4) return words.slice(0, rows * B);
  const out = new Uint8Array(rows * B);
  for (let r = 0; r < rows; r++) out.set(words.subarray(r * W4, r * W4 + B), r * B);
  return out;
}
