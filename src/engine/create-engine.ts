/**
 * createEngine: one async API over the backends. Inputs are shape-checked
 * here, once, whichever backend runs; the native addon checks them again on
 * its side of the boundary.
 */
import { DsoError } from '../core/errors.js';
import { addonAvailable } from '../simd/addon.js';
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
import { autoBackend } from './auto-backend.js';
import type { Backend } from './backend.js';
import { jsBackend } from './js-backend.js';
import { nativeBackend } from './native-backend.js';
import { Resident } from './resident.js';
import type { Engine, EngineOptions } from './types.js';
import { webgpuBackend } from './webgpu-backend.js';

/** The host backend: native where the addon loads (or a tier is forced), else js. */
function hostBackend(opts: EngineOptions): Backend {
  return addonAvailable() || opts.isa !== undefined ? nativeBackend(opts) : jsBackend();
}

async function pickBackend(opts: EngineOptions): Promise<Backend> {
  const choice = opts.backend ?? 'auto';
  switch (choice) {
    case 'js':
      if (opts.isa !== undefined) throw new DsoError('INVALID_ARGUMENT', `isa applies to the native backend, not '${choice}'`);
      return jsBackend();
    case 'native':
      return nativeBackend(opts);
    case 'webgpu':
      return webgpuBackend(hostBackend(opts), opts.gpu);
    case 'auto':
      return autoBackend(hostBackend(opts), opts.gpu);
    default:
      throw new DsoError(
        'BACKEND_UNAVAILABLE',
        `unknown backend '${String(choice)}'; expected 'auto', 'native', 'webgpu' or 'js'`,
      );
  }
}

export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  if (opts === null || typeof opts !== 'object') throw new DsoError('INVALID_ARGUMENT', 'createEngine options must be an object');
  if (opts.inlineBytes !== undefined) wholeNumber(opts.inlineBytes, 'inlineBytes', 'INVALID_ARGUMENT', 0, Number.MAX_SAFE_INTEGER);
  const backend = await pickBackend(opts);
  let closed = false;
  const open = () => {
    if (closed) throw new DsoError('ENGINE_CLOSED', 'this engine has been closed');
  };
  return {
    get info() {
      return backend.info;
    },
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
      return new Resident(c.codes, c.dim, c.n, await backend.upload?.(c.codes, c.dim), backend);
    },
    async hammingTopK(base, queries, o) {
      open();
      if (base instanceof Resident) {
        const r = base.use(o?.dim);
        const c = checkHamming(r.codes, queries, o);
        return backend.hammingTopK(c.base, c.queries, c.dim, c.k, r.device);
      }
      const c = checkHamming(base, queries, o);
      return backend.hammingTopK(c.base, c.queries, c.dim, c.k);
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
      await backend.close?.();
    },
  };
}
