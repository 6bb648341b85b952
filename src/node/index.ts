/**
 * dso-engine/node: a DSO node as a library: its configuration, the trainer
 * (local learning plus periodic network sync), the node that wires them,
 * and its HTTP API.
 */
export { ConfigSchema, loadConfig, type ConfigSources, type DsoConfig } from './config.js';
export { DsoNode, type NetworkParts, type NodeOverrides } from './dso-node.js';
export { DsoTrainer, type SyncReport, type TrainerMetrics, type TrainerOptions } from './trainer.js';
export { buildHttpApi } from './http/server.js';
