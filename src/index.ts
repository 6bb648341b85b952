/**
 * dso-engine: the engine, the binary index, the BitDelta quantizer and the
 * aggregators. This entry loads no SQLite, libp2p or EVM code; the DSO layers
 * have subpaths of their own (dso-engine/experience, /aso, /network, /node).
 */
export { DsoError, isDsoError, type DsoErrorCode } from './core/errors.js';
export { createEngine } from './engine/create-engine.js';
export {
  BinaryIndex,
  type AddOptions,
  type BinaryIndexOptions,
  type SearchOptions,
  type SearchResult,
} from './binary-index/binary-index.js';
export type {
  BackendChoice,
  BackendName,
  Engine,
  EngineInfo,
  EngineOptions,
  QuantizeOptions,
  Quantized,
  ResidentCodes,
  ShardStats,
  TopK,
  UploadOptions,
} from './engine/types.js';
export { addonAvailable, loadAddon, type CpuInfo, type NativeAddon, type Tier } from './simd/addon.js';
export { hammingTopKReference } from './simd/reference/hamming.js';
export { majorityReference } from './simd/reference/majority.js';
export { medianReference, trimmedMeanReference } from './simd/reference/median.js';
export { dequantizeReference, packReference } from './simd/reference/pack.js';
export { BitDeltaQuantizer, type BitDeltaOptions, type CompressionReport } from './bitdelta/quantizer.js';
export type { BitDeltaCode, CompressedExperience, CompressibleExperience } from './bitdelta/record.js';
export { decodeCompressed, encodeCompressed } from './bitdelta/wire.js';
export { experienceId } from './experience/content-id.js';
export {
  SemanticAggregator,
  type AggregateOptions,
  type AggregateResult,
  type AggregatedExperience,
  type ReportedExperience,
} from './aggregate/semantic.js';
export { aggregateCommunityDeltas, type AggregatedLayer, type CommunityDelta, type LayerDelta } from './aggregate/delta-soup.js';
export { krum, trimmedMeanDeltas } from './aggregate/robust-float.js';
