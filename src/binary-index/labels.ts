/**
 * Whether labels strictly increase, compared as (signed high, unsigned low)
 * 32-bit halves: reading BigInt64Array elements makes a BigInt each, which
 * costs seconds over ten million labels.
 */
export function strictlyIncreasing(a: BigInt64Array): boolean {
  const w = new Int32Array(a.buffer, a.byteOffset, a.length * 2);
  for (let i = 1; i < a.length; i++) {
    const hi = w[2 * i + 1];
    const prevHi = w[2 * i - 1];
    if (hi < prevHi || (hi === prevHi && w[2 * i] >>> 0 <= w[2 * i - 2] >>> 0)) return false;
  }
  return true;
}
