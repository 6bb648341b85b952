/** Results into the caller's `out`: a backend that wrote there already returns it; any other result is copied in. */
import type { Quantized, TopK } from './types.js';

export function into<T extends Float32Array | Uint8Array | Int32Array>(result: T, out: T | undefined): T {
  if (out === undefined || result === out) return result;
  (out as Uint8Array).set(result);
  return out;
}

export function quantizedInto(result: Quantized, out: Quantized | undefined): Quantized {
  return out === undefined ? result : { codes: into(result.codes, out.codes), scales: into(result.scales, out.scales) };
}

export function topKInto(result: TopK, out: TopK | undefined): TopK {
  return out === undefined ? result : { ids: into(result.ids, out.ids), distances: into(result.distances, out.distances) };
}
