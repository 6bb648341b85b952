/**
 * dso-engine/network: the network layer, a subpath of its own so that users
 * of the engine alone never load libp2p, viem or the EVM.
 */
export {
  BATCH_TYPES,
  batchDomain,
  buildBatch,
  decodeEnvelope,
  encodeEnvelope,
  openBatch,
  verifyAnnouncement,
  verifyRecordInclusion,
} from './batch.js';
export type { BatchAnnouncement, BatchDomain, BatchRecord, BuiltBatch, OpenedRecord } from './batch.js';
export { connectChain, startInProcessChain, type ChainConnection, type ChainTimeouts } from './chain.js';
export { ContentStore, DEFAULT_MAX_BLOCK_BYTES, cidOfBlock, verifyBlock } from './content-store.js';
export { identityFromKey, loadOrCreateNodeKey, type NodeIdentity } from './identity.js';
export { merkleLevels, merkleProof, merkleRoot, verifyMerkleProof, type MerkleProof } from './merkle.js';
export {
  NetworkDSOAggregator,
  type AcceptedBatch,
  type NetworkAggregatorOptions,
  type PendingWork,
  type Round,
  type RoundFailure,
  type VerifiedBatch,
  type VoteOutcome,
} from './network-aggregator.js';
export { RobustMerge, type MergeCandidate, type MergeOptions, type MergePlan } from './robust-merge.js';
export {
  robustVotePolicy,
  shapeVotePolicy,
  type PolicyBatch,
  type RobustPolicyOptions,
  type RobustVotePolicy,
  type VoteDecision,
  type VotePolicy,
} from './vote-policy.js';
export type { ServingStats } from './block-exchange.js';
export { BLOCKS_PROTOCOL, P2PNode, type FetchOptions, type P2POptions, type PeerFailure } from './p2p-node.js';
export { DEFAULT_PEER_LIMITS, type PeerLimits } from './peer-limits.js';
export {
  contractError,
  DEFAULT_PARAMETERS,
  RegistryClient,
  revertReasonOf,
  type BatchStatus,
  type ChainHead,
  type DecisionStatus,
  type DeployOptions,
  type ParameterName,
  type ProposalKind,
  type RegisteredBatch,
  type RegistryEvent,
  type RegistryParameters,
  type RegistryProposal,
  type RegistryStatus,
  type Tally,
} from './registry.js';
export { RegistryCursor, type OpenBatch, type OpenProposal, type RegistryChanges, type RegistryCursorOptions } from './registry-cursor.js';
export { ReplayGuard, type ReplayGuardOptions } from './replay-guard.js';
