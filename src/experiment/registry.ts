/**
 * The experiment's use of the ExperienceRegistry, kept thin and in one place:
 * deploy on an in-process chain with the nodes as members, submit a batch,
 * vote, and read a batch's status. Members decide as the contract says (a
 * quorum of two thirds of the members, two thirds of the votes approving, the
 * submitter's registration counting as its yes).
 */
import { keccak256, parseEther, toHex } from 'viem';

import { type ChainConnection, startInProcessChain } from '../network/chain.js';
import { identityFromKey, type NodeIdentity } from '../network/identity.js';
import { type BatchStatus, RegistryClient } from '../network/registry.js';

export class ExperimentRegistry {
  private constructor(
    private readonly chain: ChainConnection,
    private readonly clients: RegistryClient[],
  ) {}

  get chainId(): number {
    return this.chain.chain.id;
  }

  /** The EIP-712 domain batches of this registry are signed in. */
  get domain(): { chainId: number; registry: `0x${string}` } {
    return { chainId: this.chain.chain.id, registry: this.clients[0].address };
  }

  /** A fresh chain in this process and a registry whose members are the given nodes. */
  static async start(members: readonly NodeIdentity[]): Promise<ExperimentRegistry> {
    const chain = await startInProcessChain();
    try {
      const owner = identityFromKey(keccak256(toHex('dso experiment registry owner')));
      await chain.fund(owner.address, parseEther('1000'));
      for (const m of members) await chain.fund(m.address, parseEther('100'));
      const deployed = await RegistryClient.deploy(chain, owner, {
        quorumBps: 6667,
        votingPeriod: 365 * 24 * 3600,
        members: members.map((m) => m.address),
      });
      return new ExperimentRegistry(
        chain,
        members.map((m) => RegistryClient.at(chain, m, deployed.address)),
      );
    } catch (e) {
      await chain.close();
      throw e;
    }
  }

  /** Node `node` registers its batch; the batch's id. */
  submit(node: number, root: `0x${string}`, envelopeCid: string, count: number): Promise<bigint> {
    return this.clients[node].submitBatch(root, envelopeCid, count);
  }

  vote(node: number, batch: bigint, approve: boolean): Promise<void> {
    return this.clients[node].vote(batch, approve);
  }

  async status(batch: bigint): Promise<BatchStatus> {
    return (await this.clients[0].getBatch(batch)).status;
  }

  close(): Promise<void> {
    return this.chain.close();
  }
}
