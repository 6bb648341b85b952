import { describe, expect, it } from 'vitest';

import { addonAvailable, loadAddon } from '../src/simd/addon.js';
import { randomBytes } from './helpers/random.js';

describe.skipIf(!addonAvailable())('machine-limit probes', () => {
  it('streamRead reads every byte on every tier', () => {
    const a = loadAddon();
    for (const len of [1, 31, 255, 256, 1000, 4099]) {
      const zeros = new Uint8Array(len);
      for (const isa of a.cpuInfo().available) {
        expect(a.streamRead(zeros, { isa })).toBe(0);
        // A byte changed anywhere (head, vector body, tail) changes the checksum.
        for (const at of [0, len >> 1, len - 1]) {
          const one = zeros.slice();
          one[at] = 1 + (at % 7);
          expect(a.streamRead(one, { isa }), `${isa} len ${len} byte ${at}`).not.toBe(0);
        }
        // The same bytes at another address (and alignment) give the same checksum.
        const data = randomBytes(len + 3, len);
        expect(a.streamRead(data.subarray(3), { isa })).toBe(a.streamRead(data.slice(3), { isa }));
      }
    }
  });

  it('xorPopcount reports the work it did on every tier', () => {
    const a = loadAddon();
    const lanes: Record<string, number> = { serial: 1, avx2: 4, avx512: 8 };
    for (const isa of a.cpuInfo().available) {
      const r = a.xorPopcount(1000, { isa });
      expect(r.words).toBe(1000 * 8 * lanes[isa]);
      expect(r.checksum).toBeGreaterThan(0);
    }
  });
});
