/**
 * createEngine: one async API over the backends. Inputs are shape-checked
 * here, once, whichever backend runs; the native addon checks them again on
 * its side of the boundary.
 */
import { DsoError } from '../errors.js';
import { addonAvailable } from '../simd/addon.js';
import {
  checkColumns,
  checkDequantize,
  checkHamming,
  checkMajority,
  checkQuantize,
  checkTrim,
} from '../simd/checks.js';
import type { Backend } from './backend.js';
import { jsBackend } from './js-backend.js';
import { nativeBackend } from './native-backend.js';
import type { Engine, EngineOptions } from './types.js';

function pickBackend(opts: EngineOptions): Backend {
  const choice = opts.backend ?? 'auto';
  switch (choice) {
    case 'js':
      if (opts.isa !== undefined) throw new DsoError('INVALID_ARGUMENT', `isa applies to the native backend, not '${choice}'`);
      return jsBackend();
    case 'native':
      return nativeBackend(opts);
    case 'auto':
      return addonAvailable() || opts.isa !== undefined ? nativeBackend(opts) : jsBackend();
    default:
      throw new DsoError('BACKEND_UNAVAILABLE', `unknown backend '${String(choice)}'; expected 'auto', 'native' or 'js'`);
  }
}

export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  if (opts === null || typeof opts !== 'object') throw new DsoError('INVALID_ARGUMENT', 'createEngine options must be an object');
  const backend = pickBackend(opts);
  let closed = false;
  const open = () => {
    if (closed) throw new DsoError('ENGINE_CLOSED', 'this engine has been closed');
  };
  return {
    info: backend.info,
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
    async hammingTopK(base, queries, o) {
      open();
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
    async close() {
      closed = true;
    },
  };
}
