import { describe, expect, it } from 'vitest';

import {
  dequantizeReference,
  hammingTopKReference,
  majorityReference,
  medianReference,
  packReference,
  trimmedMeanReference,
} from '../src/index.js';
import { addonAvailable, loadAddon } from '../src/simd/addon.js';
import { announceSkips, backendCases, engineFor } from './helpers/backends.js';
import { errorCode } from './helpers/errors.js';
import { gaussian, randomBytes } from './helpers/random.js';

const cases = backendCases();
announceSkips(cases);

function detachedLike<T extends Int32Array | Float32Array | Uint8Array>(a: T): T {
  const d = new (a.constructor as new (n: number) => T)(a.length);
  structuredClone(d.buffer, { transfer: [d.buffer as ArrayBuffer] });
  return d;
}

// Arrays the caller gives are filled and handed back (the same objects), on every backend.
describe.each(cases)('out arrays on $name', (c) => {
  it.skipIf(!c.available)('every call that returns arrays fills the given ones', async () => {
    const e = await engineFor(c);
    const dim = 77;
    const rows = 130;
    const x = gaussian(rows * dim, 3);
    const packed = { codes: new Uint8Array(rows * 10).fill(7), scales: new Float32Array(rows).fill(7) };
    const q = await e.quantize(x, { dim, out: packed });
    expect(q.codes).toBe(packed.codes);
    expect(q.scales).toBe(packed.scales);
    const want = packReference(x, { rows, dim, groupSize: dim, groups: 1, bytesPerRow: 10 });
    expect(q.codes).toEqual(want.codes);
    q.scales.forEach((v, i) => expect(v).toBeCloseTo(want.scales[i], 5));

    const floats = new Float32Array(rows * dim);
    expect(await e.dequantize(q, { dim, out: floats })).toBe(floats);
    expect(floats).toEqual(dequantizeReference(q.codes, q.scales, { rows, dim, groupSize: dim, groups: 1, bytesPerRow: 10 }));

    const base = randomBytes(3000 * 10, 4);
    const queries = randomBytes(5 * 10, 5);
    const top = { ids: new Int32Array(5 * 9).fill(99), distances: new Int32Array(5 * 9).fill(99) };
    const got = await e.hammingTopK(base, queries, { dim, k: 9, out: top });
    expect(got.ids).toBe(top.ids);
    expect(got.distances).toBe(top.distances);
    expect(got).toEqual(hammingTopKReference(base, queries, dim, 9));
    // Missing results are -1 in the caller's arrays too.
    const few = { ids: new Int32Array(4).fill(5), distances: new Int32Array(4).fill(5) };
    expect((await e.hammingTopK(base.subarray(0, 20), queries.subarray(0, 10), { dim, k: 4, out: few })).ids).toBe(few.ids);
    expect(Array.from(few.ids.subarray(2))).toEqual([-1, -1]);

    const n = 9;
    const cols = gaussian(n * 333, 6);
    const med = new Float32Array(333);
    expect(await e.median(cols, { n, out: med })).toBe(med);
    expect(med).toEqual(medianReference(cols, n));
    const tm = new Float32Array(333);
    expect(await e.trimmedMean(cols, { n, trim: 0.2, out: tm })).toBe(tm);
    const tw = trimmedMeanReference(cols, n, 0.2);
    tm.forEach((v, i) => expect(v).toBeCloseTo(tw[i], 5));
    const votes = randomBytes(n * 13, 7);
    const maj = new Uint8Array(13);
    expect(await e.majority(votes, { n, dim: 100, out: maj })).toBe(maj);
    expect(maj).toEqual(majorityReference(votes, n, 100));
  });

  it.skipIf(!c.available)('a wrong out is a typed error before any work', async () => {
    const e = await engineFor(c);
    const x = gaussian(4 * 16, 1);
    const rows = gaussian(3 * 8, 2);
    expect(await errorCode(e.quantize(x, { dim: 16, out: { codes: new Uint8Array(8), scales: new Float32Array(3) } }))).toBe(
      'LENGTH_MISMATCH',
    );
    expect(await errorCode(e.quantize(x, { dim: 16, out: { codes: new Int8Array(8) as never, scales: new Float32Array(4) } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await errorCode(e.quantize(x, { dim: 16, out: null as never }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(e.quantize(x, { dim: 16, out: { codes: new Uint8Array(8), scales: detachedLike(new Float32Array(4)) } }))).toBe(
      'DETACHED_BUFFER',
    );
    // Outputs that share memory with an input or with each other.
    const shared = new Float32Array(64 + 4);
    shared.set(x);
    const alias = { codes: new Uint8Array(shared.buffer, 0, 8), scales: new Float32Array(shared.buffer, 64 * 4, 4) };
    expect(await errorCode(e.quantize(shared.subarray(0, 64), { dim: 16, out: alias }))).toBe('INVALID_ARGUMENT');
    const both = new ArrayBuffer(16);
    expect(await errorCode(e.quantize(x, { dim: 16, out: { codes: new Uint8Array(both, 0, 8), scales: new Float32Array(both) } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await errorCode(e.median(rows, { n: 3, out: new Float32Array(7) }))).toBe('LENGTH_MISMATCH');
    expect(await errorCode(e.median(rows, { n: 3, out: rows.subarray(0, 8) }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(e.trimmedMean(rows, { n: 3, trim: 0.1, out: new Float64Array(8) as never }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(e.majority(new Uint8Array(4), { n: 2, dim: 16, out: new Uint8Array(3) }))).toBe('LENGTH_MISMATCH');
    const base = randomBytes(16, 3);
    const top = { ids: new Int32Array(2), distances: new Int32Array(3) };
    expect(await errorCode(e.hammingTopK(base, base.subarray(0, 8), { dim: 64, k: 2, out: top }))).toBe('LENGTH_MISMATCH');
    expect(await errorCode(e.hammingTopK(base, base.subarray(0, 8), { dim: 64, k: 2, out: { ids: top.ids } as never }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      await errorCode(e.dequantize({ codes: new Uint8Array(2), scales: new Float32Array(1) }, { dim: 16, out: new Float32Array(15) })),
    ).toBe('LENGTH_MISMATCH');
  });
});

// The misuse rules for inputs hold for the caller's outputs too.
describe.each(cases)('out arrays under misuse on $name', (c) => {
  it.skipIf(!c.available)('an out transferred away during the call is DETACHED_BUFFER, padded or not', async () => {
    const e = await engineFor(c);
    const base = randomBytes(3000 * 8, 11);
    const queries = randomBytes(4 * 8, 12);
    // k within n (the backend fills out), and past n (the engine pads into out).
    for (const k of [5, 4000]) {
      for (const field of ['ids', 'distances'] as const) {
        const out = { ids: new Int32Array(4 * k), distances: new Int32Array(4 * k) };
        const pending = e.hammingTopK(base, queries, { dim: 64, k, out });
        structuredClone(out[field].buffer, { transfer: [out[field].buffer] });
        expect(await errorCode(pending)).toBe('DETACHED_BUFFER');
      }
    }
    const rows = gaussian(9 * 64, 13);
    const med = new Float32Array(64);
    const pending = e.median(rows, { n: 9, out: med });
    structuredClone(med.buffer, { transfer: [med.buffer] });
    expect(await errorCode(pending)).toBe('DETACHED_BUFFER');
    const packed = { codes: new Uint8Array(9 * 8), scales: new Float32Array(9) };
    const quantized = e.quantize(rows, { dim: 64, out: packed });
    structuredClone(packed.scales.buffer, { transfer: [packed.scales.buffer] });
    expect(await errorCode(quantized)).toBe('DETACHED_BUFFER');
  });

  it.skipIf(!c.available)('an out on a resizable ArrayBuffer is refused: it can shrink under the kernel', async () => {
    const e = await engineFor(c);
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
    const rows = gaussian(9 * 64, 14);
    expect(await errorCode(e.median(rows, { n: 9, out: new Float32Array(new Resizable(256, { maxByteLength: 256 })) }))).toBe(
      'INVALID_ARGUMENT',
    );
    const top = { ids: new Int32Array(new Resizable(8, { maxByteLength: 64 })), distances: new Int32Array(2) };
    expect(await errorCode(e.hammingTopK(randomBytes(80, 15), randomBytes(8, 16), { dim: 64, k: 2, out: top }))).toBe('INVALID_ARGUMENT');
  });
});

describe.skipIf(!addonAvailable())('native out (addon called directly, no TS checks)', () => {
  const a = () => loadAddon();
  const x = gaussian(8 * 32, 9);

  it('fills and returns the caller arrays, inline and on the pool, and reuses them', async () => {
    for (const async of [false, true]) {
      const out = { codes: new Uint8Array(8 * 4), scales: new Float32Array(8) };
      for (let round = 0; round < 2; round++) {
        const r = await a().pack(x, 32, undefined, null, { async }, out);
        expect(r.codes).toBe(out.codes);
        expect(r.scales).toBe(out.scales);
        expect(r.codes).toEqual((await a().pack(x, 32, undefined, null)).codes);
      }
      const top = { ids: new Int32Array(6), distances: new Int32Array(6) };
      const base = randomBytes(50 * 4, 1);
      const got = await a().hammingTopK(base, base.subarray(0, 8), 32, 3, { async }, top);
      expect(got.ids).toBe(top.ids);
      expect(got).toEqual(hammingTopKReference(base, base.subarray(0, 8), 32, 3));
      const m = new Float32Array(32);
      expect(await a().median(x, 8, { async }, m)).toBe(m);
      expect(await a().trimmedMean(x, 8, 0.2, { async }, m)).toBe(m);
      const maj = new Uint8Array(4);
      expect(await a().majority(base.subarray(0, 12), 3, 32, { async }, maj)).toBe(maj);
      const deq = new Float32Array(8 * 32);
      expect(await a().dequantize(new Uint8Array(32), new Float32Array(8), 32, undefined, null, { async }, deq)).toBe(deq);
    }
  });

  it('checks the out type, length, detachment and overlap natively', async () => {
    const ok = () => ({ codes: new Uint8Array(32), scales: new Float32Array(8) });
    const pack = (out: unknown) => () => a().pack(x, 32, undefined, null, undefined, out as never);
    expect(await errorCode(pack(7))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(pack({ ...ok(), codes: new Uint8Array(31) }))).toBe('LENGTH_MISMATCH');
    expect(await errorCode(pack({ ...ok(), scales: new Float64Array(8) }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(pack({ ...ok(), scales: undefined }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(pack({ ...ok(), codes: detachedLike(new Uint8Array(32)) }))).toBe('DETACHED_BUFFER');
    expect(await errorCode(pack({ codes: new Uint8Array(x.buffer, 0, 32), scales: new Float32Array(8) }))).toBe('INVALID_ARGUMENT');
    const shared = new ArrayBuffer(64);
    expect(await errorCode(pack({ codes: new Uint8Array(shared, 0, 32), scales: new Float32Array(shared, 16, 8) }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await errorCode(() => a().median(x, 8, undefined, new Float32Array(31)))).toBe('LENGTH_MISMATCH');
    expect(await errorCode(() => a().median(x, 8, undefined, x.subarray(0, 32)))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(() => a().majority(new Uint8Array(8), 2, 32, undefined, new Uint8Array(8).subarray(0, 3)))).toBe(
      'LENGTH_MISMATCH',
    );
    const base = randomBytes(40, 2);
    expect(await errorCode(() => a().hammingTopK(base, base.subarray(0, 4), 32, 2, undefined, { ids: new Int32Array(2) } as never))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      await errorCode(() =>
        a().hammingTopK(base, base.subarray(0, 4), 32, 2, undefined, {
          ids: new Int32Array(base.buffer, 0, 2),
          distances: new Int32Array(2),
        }),
      ),
    ).toBe('INVALID_ARGUMENT');
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
    expect(await errorCode(() => a().median(x, 8, undefined, new Float32Array(new Resizable(128, { maxByteLength: 128 }))))).toBe(
      'INVALID_ARGUMENT',
    );
    // Shared memory is a valid out (workers fill such arrays).
    const sab = { codes: new Uint8Array(new SharedArrayBuffer(32)), scales: new Float32Array(new SharedArrayBuffer(32)) };
    expect((await a().pack(x, 32, undefined, null, undefined, sab)).codes).toBe(sab.codes);
  });
});
