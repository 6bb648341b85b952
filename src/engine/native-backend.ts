/**
 * The C++/SIMD backend. Calls whose work exceeds `inlineBytes` bytes touched
 * (256 KiB by default) run on the libuv pool so the event loop stays live;
 * smaller ones run inline, where a thread hop would cost more than the kernel.
 * A latency-bound caller (one retrieval at a time over a few MB) raises the
 * bound: the hop and its wake-up jitter cost more than the blocked loop.
 */
import { bytesPerRow } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { type CallOptions, loadAddon, type Tier } from '../simd/addon.js';
import type { Backend } from './backend.js';

const DEFAULT_INLINE_BYTES = 1 << 18;

export function nativeBackend(opts: { isa?: Tier; vpopcntdq?: boolean; inlineBytes?: number }): Backend {
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
  const inline = opts.inlineBytes ?? DEFAULT_INLINE_BYTES;
  const call = (bytes: number): CallOptions => ({ isa, vpopcntdq, async: bytes > inline });
  return {
    info: { backend: 'native', isa, vpopcntdq, threads: 1, cpu },
    quantize: async (x, s, baseline, out) => addon.pack(x, s.dim, s.groupSize, baseline ?? null, call(x.byteLength), out),
    dequantize: async (codes, scales, s, baseline, out) =>
      addon.dequantize(codes, scales, s.dim, s.groupSize, baseline ?? null, call(s.rows * s.dim * 4), out),
    hammingTopK: async (base, queries, dim, k, _device, out) =>
      addon.hammingTopK(base, queries, dim, k, call(base.byteLength * (queries.byteLength / bytesPerRow(dim))), out),
    median: async (rows, n, out) => addon.median(rows, n, call(rows.byteLength), out),
    trimmedMean: async (rows, n, trim, out) => addon.trimmedMean(rows, n, trim, call(rows.byteLength), out),
    majority: async (codes, n, dim, out) => addon.majority(codes, n, dim, call(codes.byteLength), out),
    cosineCandidates: async (vectors, rows, queries, dim) =>
      addon.cosineCandidates(vectors, rows, queries, dim, call(rows.length * dim * 4)),
  };
}
