import { describe, expect, it } from 'vitest';

import { hammingTopKReference } from '../src/index.js';
import { announceSkips, backendCases, engineFor } from './helpers/backends.js';
import { errorCode } from './helpers/errors.js';
import { randomBytes } from './helpers/random.js';

const cases = backendCases();
announceSkips(cases);

function concat(...parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return all;
}

describe.each(cases)('resident codes on $name', (c) => {
  it.skipIf(!c.available)('grow by appends that upload only the new rows, and search exactly', async () => {
    const e = await engineFor(c);
    const dim = 200;
    const B = 25;
    const parts = [randomBytes(3000 * B, 1), randomBytes(1 * B, 2), new Uint8Array(0), randomBytes(9000 * B, 3), randomBytes(77 * B, 4)];
    const q = randomBytes(4 * B, 5);
    const resident = await e.uploadCodes(parts[0], { dim });
    expect(resident.onDevice).toBe(e.info.backend === 'webgpu');
    let all = parts[0];
    for (const part of parts.slice(1)) {
      const before = e.stats().gpu;
      await resident.append(part);
      all = concat(all, part);
      expect(resident.n).toBe(all.length / B);
      if (before) {
        // Rows travel as 32-bit words: 7 words a row of 200 bits. Nothing else is uploaded.
        const after = e.stats().gpu!;
        expect(after.stagedBytes + after.directBytes - before.stagedBytes - before.directBytes).toBe((part.length / B) * 28);
      }
      expect(await e.hammingTopK(resident, q, { dim, k: 11 })).toEqual(hammingTopKReference(all, q, dim, 11));
    }
    // A search over a snapshot of the first rows leaves later rows out.
    const first = parts[0].length / B + 1;
    expect(await e.hammingTopK(resident, q, { dim, k: 5, rows: first })).toEqual(
      hammingTopKReference(all.subarray(0, first * B), q, dim, 5),
    );
    expect(await errorCode(e.hammingTopK(resident, q, { dim, k: 5, rows: resident.n + 1 }))).toBe('INVALID_COUNT');
    expect(await errorCode(resident.append(randomBytes(B + 1, 6)))).toBe('LENGTH_MISMATCH');
    resident.release();
    expect(await errorCode(resident.append(randomBytes(B, 6)))).toBe('INVALID_ARGUMENT');
  });

  it.skipIf(!c.available)('adopts shared memory instead of copying it, and grows there', async () => {
    const e = await engineFor(c);
    const dim = 64;
    const store = new Uint8Array(new SharedArrayBuffer(8 * 6000));
    store.set(randomBytes(8 * 6000, 7));
    const resident = await e.uploadCodes(store.subarray(0, 8 * 1000), { dim, adopt: true });
    await resident.append(store.subarray(8 * 1000, 8 * 4000)); // follows in place
    // The store moved (an index growing): the copy of the present rows is checked and adopted.
    const moved = new Uint8Array(new SharedArrayBuffer(8 * 8000));
    moved.set(store);
    await resident.append(moved.subarray(8 * 4000, 8 * 6000));
    const q = randomBytes(3 * 8, 8);
    expect(await e.hammingTopK(resident, q, { dim, k: 9 })).toEqual(hammingTopKReference(store, q, dim, 9));
    // Rows that do not follow a copy of the present ones are copied, not adopted.
    const other = new Uint8Array(new SharedArrayBuffer(8 * 10));
    other.set(randomBytes(8 * 10, 9));
    await resident.append(other.subarray(8 * 5));
    expect(await e.hammingTopK(resident, q, { dim, k: 9 })).toEqual(hammingTopKReference(concat(store, other.subarray(8 * 5)), q, dim, 9));
    resident.release();
  });
});
