export { DsoError, isDsoError, type DsoErrorCode } from './errors.js';
export { createEngine } from './engine/create-engine.js';
export { BinaryIndex, type AddOptions, type BinaryIndexOptions, type SearchOptions, type SearchResult } from './index/binary-index.js';
export type {
  BackendChoice,
  BackendName,
  Engine,
  EngineInfo,
  EngineOptions,
  QuantizeOptions,
  Quantized,
  ResidentCodes,
  TopK,
} from './engine/types.js';
export { addonAvailable, loadAddon, type CpuInfo, type NativeAddon, type Tier } from './simd/addon.js';
export { hammingTopKReference } from './simd/reference/hamming.js';
export { majorityReference } from './simd/reference/majority.js';
export { medianReference, trimmedMeanReference } from './simd/reference/median.js';
export { dequantizeReference, packReference } from './simd/reference/pack.js';
