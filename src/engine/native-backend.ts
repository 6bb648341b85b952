/**
 * The C++/SIMD backend. Calls whose work exceeds ASYNC_WORK bytes touched run
 * on the libuv pool so the event loop stays live; smaller ones run inline,
 * where a thread hop would cost more than the kernel.
 */
import { DsoError } from '../errors.js';
import { loadAddon, type CallOptions, type Tier } from '../simd/addon.js';
import { bytesPerRow } from '../simd/checks.js';
import type { Backend } from './backend.js';

const ASYNC_WORK = 1 << 18;

export function nativeBackend(opts: { isa?: Tier; vpopcntdq?: boolean }): Backend {
  const addon = loadAddon();
  const cpu = addon.cpuInfo();
  const isa = opts.isa ?? cpu.best;
  if (!cpu.compiled.includes(isa)) {
    throw new DsoError('ISA_UNAVAILABLE', `ISA tier '${isa}' is not compiled into this build (compiled: ${cpu.compiled.join(', ')})`);
  }
  if (!cpu.available.includes(isa)) {
    throw new DsoError('ISA_UNAVAILABLE', `ISA tier '${isa}' is not supported by this CPU/OS (available: ${cpu.available.join(', ')})`);
  }
  const vpopcntdq = isa === 'avx512' && cpu.features.vpopcntdq && opts.vpopcntdq !== false;
  const call = (bytes: number): CallOptions => ({ isa, vpopcntdq, async: bytes > ASYNC_WORK });
  return {
    info: { backend: 'native', isa, vpopcntdq, cpu },
    quantize: async (x, s, baseline) => addon.pack(x, s.dim, s.groupSize, baseline ?? null, call(x.byteLength)),
    dequantize: async (codes, scales, s, baseline) =>
      addon.dequantize(codes, scales, s.dim, s.groupSize, baseline ?? null, call(s.rows * s.dim * 4)),
    hammingTopK: async (base, queries, dim, k) =>
      addon.hammingTopK(base, queries, dim, k, call(base.byteLength * (queries.byteLength / bytesPerRow(dim)))),
    median: async (rows, n) => addon.median(rows, n, call(rows.byteLength)),
    trimmedMean: async (rows, n, trim) => addon.trimmedMean(rows, n, trim, call(rows.byteLength)),
    majority: async (codes, n, dim) => addon.majority(codes, n, dim, call(codes.byteLength)),
    cosineCandidates: async (vectors, rows, queries, dim) =>
      addon.cosineCandidates(vectors, rows, queries, dim, call(rows.length * dim * 4)),
  };
}
