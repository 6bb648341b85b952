/**
 * createEngine: one async API over the backends. Inputs are shape-checked
 * here, once, whichever backend runs; the native addon checks them again on
 * its side of the boundary.
 */
import os from 'node:os';

import {
  bytesPerRow,
  checkCodes,
  checkColumns,
  checkCosine,
  checkDequantize,
  checkHamming,
  checkMajority,
  checkQuantize,
  checkQuantizeOut,
  checkTopKOut,
  checkTrim,
  outArray,
  wholeNumber,
} from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { addonAvailable } from '../simd/addon.js';
import { autoBackend } from './auto-backend.js';
import type { Backend } from './backend.js';
import { jsBackend } from './js-backend.js';
import { nativeBackend } from './native-backend.js';
import { into, quantizedInto, topKInto } from './out.js';
import { padTopK } from './pad-top-k.js';
import { Resident } from './resident.js';
import { DEFAULT_SHARD_ROWS, type ShardedBackend, shardedBackend } from './sharded-backend.js';
import type { Engine, EngineOptions } from './types.js';
import { webgpuBackend } from './webgpu-backend.js';

/** The host backend: native where the addon loads (or a tier is forced), else js; large searches sharded over worker threads. */
function hostBackend(opts: EngineOptions, base: Backend): ShardedBackend {
  const threads = opts.threads === undefined ? os.availableParallelism() : wholeNumber(opts.threads, 'threads', 'INVALID_COUNT', 1, 1024);
  const shardRows = opts.shardRows === undefined ? DEFAULT_SHARD_ROWS : wholeNumber(opts.shardRows, 'shardRows', 'INVALID_COUNT', 1);
  return shardedBackend(base, threads, shardRows);
}

/** The backend the engine calls, and the host under it (which owns the shard pool). */
async function pickBackend(opts: EngineOptions): Promise<{ backend: Backend; host: ShardedBackend }> {
  const choice = opts.backend ?? 'auto';
  switch (choice) {
    case 'js': {
      if (opts.isa !== undefined) throw new DsoError('INVALID_ARGUMENT', `isa applies to the native backend, not '${choice}'`);
      const host = hostBackend(opts, jsBackend());
      return { backend: host, host };
    }
    case 'native': {
      const host = hostBackend(opts, nativeBackend(opts));
      return { backend: host, host };
    }
    case 'webgpu':
    case 'auto': {
      const host = hostBackend(opts, addonAvailable() || opts.isa !== undefined ? nativeBackend(opts) : jsBackend());
      try {
        return { backend: choice === 'webgpu' ? await webgpuBackend(host, opts.gpu) : autoBackend(host, opts.gpu), host };
      } catch (e) {
        await host.close?.();
        throw e;
      }
    }
    default:
      throw new DsoError('BACKEND_UNAVAILABLE', `unknown backend '${String(choice)}'; expected 'auto', 'native', 'webgpu' or 'js'`);
  }
}

export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  if (opts === null || typeof opts !== 'object') throw new DsoError('INVALID_ARGUMENT', 'createEngine options must be an object');
  if (opts.inlineBytes !== undefined) wholeNumber(opts.inlineBytes, 'inlineBytes', 'INVALID_ARGUMENT', 0, Number.MAX_SAFE_INTEGER);
  const { backend, host } = await pickBackend(opts);
  return engineOver(backend, host);
}

/** The engine API over a backend (and the host under it, which owns the shard pool): what createEngine returns; tests build one over a backend they hold. */
export function engineOver(backend: Backend, host: ShardedBackend): Engine {
  let closed = false;
  const open = () => {
    if (closed) throw new DsoError('ENGINE_CLOSED', 'this engine has been closed');
  };
  return {
    get info() {
      return backend.info;
    },
    stats: () => {
      const gpu = backend.gpuStats?.();
      return gpu ? { ...host.stats(), gpu } : host.stats();
    },
    async quantize(x, o) {
      open();
      const c = checkQuantize(x, o);
      const out = o.out === undefined ? undefined : checkQuantizeOut(o.out, c.x, c.shape, c.baseline);
      return quantizedInto(await backend.quantize(c.x, c.shape, c.baseline, out), out);
    },
    async dequantize(q, o) {
      open();
      const c = checkDequantize(q, o);
      const out =
        o.out === undefined
          ? undefined
          : outArray(o.out, Float32Array, c.shape.rows * c.shape.dim, 'out', { codes: c.codes, scales: c.scales, baseline: c.baseline });
      return into(await backend.dequantize(c.codes, c.scales, c.shape, c.baseline, out), out);
    },
    async uploadCodes(codes, o) {
      open();
      const c = checkCodes(codes, o);
      const adopt = o.adopt === true && c.codes.buffer instanceof SharedArrayBuffer;
      let host: Uint8Array = c.codes;
      if (!adopt) {
        host = new Uint8Array(new SharedArrayBuffer(c.codes.byteLength));
        host.set(c.codes);
      }
      return new Resident(host, adopt, c.dim, await backend.upload?.(host, c.dim), backend);
    },
    async hammingTopK(base, queries, o) {
      open();
      const r = base instanceof Resident ? base.use(o?.dim, o.rows) : undefined;
      const c = checkHamming(r ? r.codes : base, queries, o);
      const out = o.out === undefined ? undefined : checkTopKOut(o.out, c.base, c.queries, c.nq, c.k);
      // Backends work for at most n results per query; the slots past them are padding, added once here (in out, if given).
      const kk = Math.min(c.k, c.n);
      if (kk === c.k) return topKInto(await backend.hammingTopK(c.base, c.queries, c.dim, kk, r?.device, out), out);
      const empty = { ids: new Int32Array(0), distances: new Int32Array(0) };
      const found = kk === 0 ? empty : await backend.hammingTopK(c.base, c.queries, c.dim, kk, r?.device);
      return padTopK(found, c.nq, c.k, 0, out);
    },
    async median(rows, o) {
      open();
      const c = checkColumns(rows, o);
      const out = o.out === undefined ? undefined : outArray(o.out, Float32Array, c.d, 'out', { rows: c.rows });
      return into(await backend.median(c.rows, c.n, out), out);
    },
    async trimmedMean(rows, o) {
      open();
      const c = checkColumns(rows, o);
      const trim = checkTrim(o.trim);
      const out = o.out === undefined ? undefined : outArray(o.out, Float32Array, c.d, 'out', { rows: c.rows });
      return into(await backend.trimmedMean(c.rows, c.n, trim, out), out);
    },
    async majority(codes, o) {
      open();
      const c = checkMajority(codes, o);
      const out = o.out === undefined ? undefined : outArray(o.out, Uint8Array, bytesPerRow(c.dim), 'out', { codes: c.codes });
      return into(await backend.majority(c.codes, c.n, c.dim, out), out);
    },
    async cosineCandidates(vectors, rows, queries, o) {
      open();
      const c = checkCosine(vectors, rows, queries, o);
      return backend.cosineCandidates(c.vectors, c.rows, c.queries, c.dim);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (backend !== host) await backend.close?.();
      await host.close?.();
    },
  };
}
