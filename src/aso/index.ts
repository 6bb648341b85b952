/**
 * dso-engine/aso: the Active Semantic Optimizer (training-free GRPO over an
 * experience library), its rewards and the chat-model clients.
 */
export type { ChatMessage, ChatModel, ChatOptions, ChatResponse } from './models/chat-model.js';
export { OpenAICompatibleChatModel, type OpenAICompatibleOptions } from './models/openai-compatible.js';
export {
  ActiveSemanticOptimizer,
  type ConsolidationResult,
  type EpochSummary,
  type OptimizerOptions,
  type Problem,
  type StepResult,
} from './optimizer.js';
export { answersEquivalent, extractBoxed, extractFinalAnswer, mathReward, type RewardFunction } from './rewards.js';
export { cleanAnswer, MAX_ANSWER_CHARS } from './answers.js';
export {
  DATASET_FORMATS,
  type DatasetFormat,
  type DatasetOptions,
  type DatasetProblem,
  readDataset,
  type Split,
  splitDataset,
} from './datasets.js';
export { addTokens, costUsd, noTokens, type TokenCounts, type TokenPrices } from './models/tokens.js';
export { groupAdvantages } from './advantages.js';
