/** Seeded, fast data generation for the workloads (xorshift32). */
export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Uniform floats in [-1, 1). */
export function floats(n: number, seed: number): Float32Array {
  const r = xorshift(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() / 2147483648 - 1;
  return out;
}

export function bytes(n: number, seed: number): Uint8Array {
  const r = xorshift(seed);
  const out = new Uint8Array(n);
  const words = new Uint32Array(out.buffer, 0, n >> 2);
  for (let i = 0; i < words.length; i++) words[i] = r();
  for (let i = words.length * 4; i < n; i++) out[i] = r() & 0xff;
  return out;
}
