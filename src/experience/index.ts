/**
 * dso-engine/experience: experiences, the persisted ExperienceLibrary (SQLite)
 * and the embedders. A subpath of its own so that users of the engine alone
 * never load better-sqlite3.
 */
export type { Experience, RetrievedExperience } from './experience.js';
export { ExperienceLibrary, type ApplyResult, type ExperienceLibraryOptions, type RetrieveOptions } from './library.js';
export type { OperationOutcome } from './batch-plan.js';
export type { LibraryOperation } from './operations.js';
export { EVICTION_POLICIES, type EvictionPolicy } from './eviction.js';
export { experienceId } from './content-id.js';
export { checkExperienceText, MAX_EXPERIENCE_BYTES, MAX_EXPERIENCE_WORDS } from './text.js';
export { EXPERIENCE_INJECTION_TEMPLATE, formatExperiences, injectExperiences, NO_EXPERIENCES } from './prompt.js';
export type { Embedder } from './embedders/embedder.js';
export { embedderFromSpec, type EmbedderSpec } from './embedders/from-spec.js';
export { HashingEmbedder, type HashingEmbedderOptions } from './embedders/hashing.js';
export { OpenAIEmbedder, type OpenAIEmbedderOptions } from './embedders/openai.js';
export { DEFAULT_TRANSFORMERS_MODEL, TransformersEmbedder, type TransformersEmbedderOptions } from './embedders/transformers.js';
