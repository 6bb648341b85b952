export { DsoError, isDsoError, type DsoErrorCode } from './core/errors.js';
export { createEngine } from './engine/create-engine.js';
export { BinaryIndex, type AddOptions, type BinaryIndexOptions, type SearchOptions, type SearchResult } from './binary-index/binary-index.js';
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
export type { Experience, RetrievedExperience } from './experience/experience.js';
export {
  ExperienceLibrary,
  type ApplyResult,
  type ExperienceLibraryOptions,
  type RetrieveOptions,
} from './experience/library.js';
export type { OperationOutcome } from './experience/batch-plan.js';
export type { LibraryOperation } from './experience/operations.js';
export { EVICTION_POLICIES, type EvictionPolicy } from './experience/eviction.js';
export { experienceId } from './experience/content-id.js';
export { checkExperienceText, MAX_EXPERIENCE_WORDS } from './experience/text.js';
export { EXPERIENCE_INJECTION_TEMPLATE, formatExperiences, injectExperiences, NO_EXPERIENCES } from './experience/prompt.js';
export type { Embedder } from './experience/embedders/embedder.js';
export { HashingEmbedder } from './experience/embedders/hashing.js';
export { DEFAULT_TRANSFORMERS_MODEL, TransformersEmbedder, type TransformersEmbedderOptions } from './experience/embedders/transformers.js';
export {
  BitDeltaQuantizer,
  type BitDeltaCode,
  type BitDeltaOptions,
  type CompressedExperience,
  type CompressionReport,
} from './bitdelta/quantizer.js';
export { decodeCompressed, encodeCompressed } from './bitdelta/wire.js';
export type { ChatMessage, ChatModel, ChatOptions, ChatResponse } from './aso/models/chat-model.js';
export { OpenAICompatibleChatModel, type OpenAICompatibleOptions } from './aso/models/openai-compatible.js';
export {
  ActiveSemanticOptimizer,
  type ConsolidationResult,
  type EpochSummary,
  type OptimizerOptions,
  type Problem,
  type StepResult,
} from './aso/optimizer.js';
export { answersEquivalent, extractBoxed, extractFinalAnswer, mathReward, type RewardFunction } from './aso/rewards.js';
export { groupAdvantages } from './aso/advantages.js';
export { SemanticAggregator, type AggregateOptions, type AggregateResult, type AggregatedExperience, type ReportedExperience } from './aggregate/semantic.js';
export { aggregateCommunityDeltas, type AggregatedLayer, type CommunityDelta, type LayerDelta } from './aggregate/delta-soup.js';
export { krum, trimmedMeanDeltas } from './aggregate/robust-float.js';
