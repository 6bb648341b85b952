/**
 * dso-engine/evaluate: evaluate(), which measures a model's accuracy on
 * held-out problems with and without experiences, and its sources.
 */
export {
  type Condition,
  type ConditionDelta,
  type ConditionResult,
  evaluate,
  type EvaluateOptions,
  type EvaluationReport,
  type SampleRecord,
} from './evaluate.js';
export { type ExperienceSource, librarySource, nodeSource } from './sources.js';
export { accuracyChart } from './chart.js';
