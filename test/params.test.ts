import { describe, expect, it } from 'vitest';

import { defineParams, withParams } from '../src/gpu/params.js';
import { errorCode } from './helpers/errors.js';

describe('uniform parameters declared once for WGSL and TS', () => {
  const layout = defineParams({ rows: 'u32', offset: 'i32', scale: 'f32', mask: 'u32', count: 'u32' });

  it('writes the struct in declaration order, padded to whole 16 bytes', () => {
    expect(layout.wgsl).toBe(
      [
        'struct Params {',
        '  rows: u32,',
        '  offset: i32,',
        '  scale: f32,',
        '  mask: u32,',
        '  count: u32,',
        '  pad0: u32,',
        '  pad1: u32,',
        '  pad2: u32,',
        '}',
      ].join('\n'),
    );
    expect(layout.bytes).toBe(32);
    expect(defineParams({ a: 'u32', b: 'u32', c: 'u32', d: 'u32' }).bytes).toBe(16);
    expect(defineParams({ a: 'f32' }).wgsl).toBe('struct Params {\n  a: f32,\n  pad0: u32,\n  pad1: u32,\n  pad2: u32,\n}');
  });

  it('encodes named values into the bytes the struct reads, padding zeroed', () => {
    const bytes = layout.encode({ count: 7, scale: 1.5, rows: 3, mask: 0xffffffff, offset: -2 });
    expect(bytes.byteLength).toBe(32);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(view.getUint32(0, true)).toBe(3);
    expect(view.getInt32(4, true)).toBe(-2);
    expect(view.getFloat32(8, true)).toBe(1.5);
    expect(view.getUint32(8, true)).toBe(0x3fc00000);
    expect(view.getUint32(12, true)).toBe(0xffffffff);
    expect(view.getUint32(16, true)).toBe(7);
    expect([20, 24, 28].map((o) => view.getUint32(o, true))).toEqual([0, 0, 0]);
  });

  it('rejects values the field type cannot hold instead of wrapping them', async () => {
    const ok = { rows: 1, offset: 0, scale: 0, mask: 0, count: 0 };
    expect(await errorCode(() => layout.encode({ ...ok, rows: -1 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(() => layout.encode({ ...ok, rows: 2 ** 32 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(() => layout.encode({ ...ok, rows: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(() => layout.encode({ ...ok, offset: 2 ** 31 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(() => layout.encode({ ...ok, offset: -(2 ** 31) }))).toBe('no error');
    expect(await errorCode(() => layout.encode({ ...ok, scale: NaN }))).toBe('INVALID_ARGUMENT');
  });

  it('makes a missing or an undeclared field a type error (and a missing one an error at run time too)', async () => {
    // @ts-expect-error: count is missing
    expect(await errorCode(() => layout.encode({ rows: 1, offset: 0, scale: 0, mask: 0 }))).toBe('INVALID_ARGUMENT');
    // @ts-expect-error: extra is not declared
    expect(await errorCode(() => layout.encode({ rows: 1, offset: 0, scale: 0, mask: 0, count: 0, extra: 1 }))).toBe('no error');
  });

  it('rejects field names WGSL cannot take or that clash with the padding', async () => {
    expect(await errorCode(() => defineParams({ '0rows': 'u32' }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(() => defineParams({ 'a-b': 'u32' }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(() => defineParams({ pad0: 'u32' }))).toBe('INVALID_ARGUMENT');
  });

  it('puts the struct in place of the PARAMS: line, and refuses a program without one', async () => {
    const small = defineParams({ n: 'u32' });
    const text = '// head\n// PARAMS: declared in x.ts\n@group(0) @binding(0) var<uniform> p: Params;\n';
    expect(withParams(text, small, 'x')).toBe(`// head\n${small.wgsl}\n@group(0) @binding(0) var<uniform> p: Params;\n`);
    expect(await errorCode(() => withParams('// no marker\n', small, 'x'))).toBe('INVALID_ARGUMENT');
  });
});
