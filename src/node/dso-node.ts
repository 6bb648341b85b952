/**
 * DsoNode: one running node, built from a DsoConfig. Owns the library, the
 * optimizer (when a model is configured), the network side (when enabled)
 * and the trainer; stop() takes them down in order, after the running sync.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { type Hex, parseEther } from 'viem';

import { OpenAICompatibleChatModel } from '../aso/models/openai-compatible.js';
import { ActiveSemanticOptimizer } from '../aso/optimizer.js';
import type { Embedder } from '../experience/embedders/embedder.js';
import { embedderFromSpec } from '../experience/embedders/from-spec.js';
import { ExperienceLibrary } from '../experience/library.js';
import { type ChainConnection, connectChain, startInProcessChain } from '../network/chain.js';
import { ContentStore } from '../network/content-store.js';
import { loadOrCreateNodeKey, type NodeIdentity } from '../network/identity.js';
import { NetworkDSOAggregator } from '../network/network-aggregator.js';
import { p2pPrivateKey } from '../network/p2p-identity.js';
import { P2PNode } from '../network/p2p-node.js';
import { DEFAULT_PARAMETERS, RegistryClient } from '../network/registry.js';
import { ReplayGuard } from '../network/replay-guard.js';
import { type RobustVotePolicy, robustVotePolicy } from '../network/vote-policy.js';
import type { DsoConfig } from './config.js';
import { PeerDiscovery } from './discovery.js';
import { loadOrCreateToken } from './http/token.js';
import { savedListen, saveListen } from './p2p-listen.js';
import { DsoTrainer } from './trainer.js';

export interface NetworkParts {
  chain: ChainConnection;
  registry: RegistryClient;
  store: ContentStore;
  p2p: P2PNode;
  aggregator: NetworkDSOAggregator;
  replayGuard: ReplayGuard;
  policy: RobustVotePolicy | undefined;
  /** Peers from the registry; absent when turned off, or on a chain of this process's own (nobody else is there). */
  discovery?: PeerDiscovery;
}

/** Parts a caller can hand in instead of having the node create them (several nodes sharing one in-process chain). */
export interface NodeOverrides {
  chain?: ChainConnection;
  registryAddress?: Hex;
  /** Where the node tells what went wrong in the background (a sync step that failed), one line each. */
  log?: (line: string) => void;
}

export class DsoNode {
  private constructor(
    readonly config: DsoConfig,
    readonly identity: NodeIdentity,
    readonly library: ExperienceLibrary,
    readonly trainer: DsoTrainer,
    readonly optimizer: ActiveSemanticOptimizer | undefined,
    readonly network: NetworkParts | undefined,
    private readonly ownsChain: boolean,
    /** The bearer token of the HTTP API's write endpoints (undefined with http.auth 'none'). */
    readonly httpToken: string | undefined,
    readonly httpTokenFile: string | undefined,
  ) {}

  get nodeId(): Hex {
    return this.identity.address;
  }

  static async start(config: DsoConfig, overrides: NodeOverrides = {}): Promise<DsoNode> {
    mkdirSync(config.dataDir, { recursive: true });
    const identity = loadOrCreateNodeKey(config.keyFile ?? path.join(config.dataDir, 'node.key'));
    const tokenFile = config.http.auth === 'token' ? (config.http.tokenFile ?? path.join(config.dataDir, 'http.token')) : undefined;
    const httpToken = tokenFile === undefined ? undefined : loadOrCreateToken(tokenFile);
    const library = await ExperienceLibrary.open({
      path: path.join(config.dataDir, 'library.db'),
      namespace: config.library.namespace,
      capacity: config.library.capacity,
      eviction: config.library.eviction,
      embedder: await embedderFromSpec(config.embedder),
      backend: config.backend,
      source: identity.address,
    });
    let optimizer: ActiveSemanticOptimizer | undefined;
    let network: NetworkParts | undefined;
    let ownsChain = false;
    try {
      if (config.model) {
        const model = new OpenAICompatibleChatModel({
          baseUrl: config.model.baseUrl,
          model: config.model.name,
          apiKeyEnv: config.model.apiKeyEnv,
          temperature: config.model.temperature,
          maxTokens: config.model.maxTokens,
          concurrency: config.model.concurrency,
        });
        optimizer = new ActiveSemanticOptimizer({
          library,
          model,
          resultLog: path.join(config.dataDir, 'steps.jsonl'),
          source: identity.address,
        });
      }
      if (config.enabled) {
        ownsChain = overrides.chain === undefined;
        network = await DsoNode.startNetwork(config, identity, library.embedder, overrides);
      }
    } catch (e) {
      await library.close();
      throw e;
    }
    const trainer = new DsoTrainer({
      library,
      optimizer,
      network: network?.aggregator,
      nodeId: identity.address,
      syncFrequency: config.syncFrequency,
      acceptanceThreshold: config.acceptanceThreshold,
      ...(config.byzantineRobust ? { votingThreshold: config.votingThreshold } : {}),
      log: overrides.log,
    });
    return new DsoNode(config, identity, library, trainer, optimizer, network, ownsChain, httpToken, tokenFile);
  }

  private static async startNetwork(
    config: DsoConfig,
    identity: NodeIdentity,
    embedder: Embedder,
    overrides: NodeOverrides,
  ): Promise<NetworkParts> {
    const chain = overrides.chain ?? (config.rpcUrl ? await connectChain(config.rpcUrl) : await startInProcessChain());
    // A chain of this process's own has one funded, registered member: this node.
    if (chain.where === 'in-process' && overrides.chain === undefined) await chain.fund(identity.address, parseEther('1000'));
    const registry = await DsoNode.registry(config, chain, identity, overrides.registryAddress);
    const store = await ContentStore.fs(config.contentStorePath ?? path.join(config.dataDir, 'blocks'));
    const p2p = await P2PNode.start({
      network: config.network,
      chainId: chain.chain.id,
      registry: registry.address,
      store,
      privateKey: await p2pPrivateKey(identity),
      listen: config.listen ?? savedListen(config.dataDir),
      peers: config.peers,
      limits: config.peerLimits,
    });
    if (config.listen === undefined) saveListen(config.dataDir, p2p.addresses);
    const replayGuard = new ReplayGuard({ file: path.join(config.dataDir, 'replay.db') });
    const policy = config.byzantineRobust ? robustVotePolicy({ embedder, maxCodeDistance: config.maxCodeDistance }) : undefined;
    const aggregator = new NetworkDSOAggregator({
      identity,
      registry,
      store,
      p2p,
      network: config.network,
      chainId: chain.chain.id,
      replayGuard,
      confirmations: config.confirmations,
      ...(policy ? { votePolicy: policy.policy } : {}),
    });
    let discovery: PeerDiscovery | undefined;
    if (config.discovery && !(chain.where === 'in-process' && overrides.chain === undefined)) {
      discovery = new PeerDiscovery({
        registry,
        p2p,
        configured: config.peers,
        log: overrides.log ?? ((line) => process.stderr.write(`dso node: ${line}\n`)),
      });
      discovery.start();
    }
    return { chain, registry, store, p2p, aggregator, replayGuard, policy, discovery };
  }

  /** The configured registry; else, on a chain, the one this node deployed before (recorded in its data dir), or a new one. */
  private static async registry(config: DsoConfig, chain: ChainConnection, identity: NodeIdentity, given?: Hex): Promise<RegistryClient> {
    const address = given ?? (config.registryAddress as Hex | undefined);
    if (address) return RegistryClient.open(chain, identity, address);
    const record = path.join(config.dataDir, 'registry.json');
    if (chain.where !== 'in-process' && existsSync(record)) {
      const saved = JSON.parse(readFileSync(record, 'utf8')) as { chainId: number; address: Hex };
      if (saved.chainId === chain.chain.id) return RegistryClient.at(chain, identity, saved.address);
    }
    const reg = await RegistryClient.deploy(chain, identity, { ...DEFAULT_PARAMETERS, members: [identity.address] });
    if (chain.where !== 'in-process') {
      writeFileSync(`${record}.tmp`, JSON.stringify({ chainId: chain.chain.id, address: reg.address }));
      renameSync(`${record}.tmp`, record);
    }
    return reg;
  }

  /** Waits for the running sync, then closes the network side and the library. */
  async stop(): Promise<void> {
    await this.trainer.stop();
    this.optimizer?.close();
    if (this.network) {
      await this.network.discovery?.stop();
      await this.network.p2p.stop();
      await this.network.store.close();
      this.network.replayGuard.close();
      await this.network.policy?.close();
      if (this.ownsChain) await this.network.chain.close();
    }
    await this.library.close();
  }
}
