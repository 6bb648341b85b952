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
export { groupAdvantages } from './advantages.js';
