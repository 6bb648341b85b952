/** Seeded generators for deterministic tests (mulberry32, the package's own). */
import { seededRandom } from '../../src/core/random.js';

export const rng = seededRandom;

export function gaussian(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - r();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

/** Cauchy-distributed values: heavy tails, occasional huge magnitudes. */
export function heavyTailed(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.tan(Math.PI * (r() - 0.5)) * 10;
  return out;
}

/** Values drawn from a handful of levels, so ties are everywhere. */
export function tied(n: number, seed: number, levels = 4): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * levels) - 1.5;
  return out;
}

export function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}
