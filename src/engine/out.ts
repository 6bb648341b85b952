/** Results into the caller's `out`: a backend that wrote there already returns it; any other result is copied in. */
import { detachedView } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import type { Quantized, TopK } from './types.js';

/**
 * `out`, or DETACHED_BUFFER: the caller may have transferred it away while a
 * backend worked, and a detached array would hand back no result without a word.
 */
export function holding<T extends ArrayBufferView>(out: T): T {
  if (detachedView(out)) throw new DsoError('DETACHED_BUFFER', 'out was detached during the call; it does not hold the result');
  return out;
}

export function into<T extends Float32Array | Uint8Array | Int32Array>(result: T, out: T | undefined): T {
  if (out === undefined) return result;
  if (holding(out) !== result) (out as Uint8Array).set(result);
  return out;
}

export function quantizedInto(result: Quantized, out: Quantized | undefined): Quantized {
  return out === undefined ? result : { codes: into(result.codes, out.codes), scales: into(result.scales, out.scales) };
}

export function topKInto(result: TopK, out: TopK | undefined): TopK {
  return out === undefined ? result : { ids: into(result.ids, out.ids), distances: into(result.distances, out.distances) };
}
