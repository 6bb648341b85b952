/**
 * createEngine: one async API over the backends. Inputs are shape-checked
 * here, once, whichever backend runs; the native addon checks them again on
 * its side of the boundary.
 */
import os from 'node:os';

import {
  checkCodes,
  checkColumns,
  checkCosine,
  checkDequantize,
  checkHamming,
  checkMajority,
  checkQuantize,
  checkTrim,
  wholeNumber,
} from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { addonAvailable } from '../simd/addon.js';
import { autoBackend } from './auto-backend.js';
import type { Backend } from './backend.js';
import { jsBackend } from './js-backend.js';
import { nativeBackend } from './native-backend.js';
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
  let closed = false;
  const open = () => {
    if (closed) throw new DsoError('ENGINE_CLOSED', 'this engine has been closed');
  };
  return {
    get info() {
      return backend.info;
    },
    stats: () => host.stats(),
    async quantize(x, o) {
      open();
      const c = checkQuantize(x, o);
      return backend.quantize(c.x, c.shape, c.baseline);
    },
    async dequantize(q, o) {
      open();
      const c = checkDequantize(q, o);
      return backend.dequantize(c.codes, c.scales, c.shape, c.baseline);
    },
    async uploadCodes(codes, o) {
      open();
      const c = checkCodes(codes, o);
      const shared = new Uint8Array(new SharedArrayBuffer(c.codes.byteLength));
      shared.set(c.codes);
      return new Resident(shared, c.dim, c.n, await backend.upload?.(shared, c.dim), backend);
    },
    async hammingTopK(base, queries, o) {
      open();
      const r = base instanceof Resident ? base.use(o?.dim) : undefined;
      const c = checkHamming(r ? r.codes : base, queries, o);
      // Backends work for at most n results per query; the slots past them are padding, added once here.
      const kk = Math.min(c.k, c.n);
      const empty = { ids: new Int32Array(0), distances: new Int32Array(0) };
      const found = kk === 0 ? empty : await backend.hammingTopK(c.base, c.queries, c.dim, kk, r?.device);
      return padTopK(found, c.nq, c.k);
    },
    async median(rows, o) {
      open();
      const c = checkColumns(rows, o);
      return backend.median(c.rows, c.n);
    },
    async trimmedMean(rows, o) {
      open();
      const c = checkColumns(rows, o);
      return backend.trimmedMean(c.rows, c.n, checkTrim(o.trim));
    },
    async majority(codes, o) {
      open();
      const c = checkMajority(codes, o);
      return backend.majority(c.codes, c.n, c.dim);
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
