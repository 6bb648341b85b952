/**
 * Client of contracts/ExperienceRegistry.sol through viem: deploy, submit a
 * batch, vote, finalize, membership, and paged reads of accepted batches.
 * Every write is simulated first, so a revert comes back as a typed
 * CONTRACT_REVERTED error naming the contract's custom error (AlreadyVoted,
 * NotMember, ...) before any transaction is sent.
 */
import { readFileSync } from 'node:fs';

import {
  type Abi,
  type Account,
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  ExecutionRevertedError,
  type Hex,
  type PublicClient,
  type WalletClient,
} from 'viem';

import { DsoError } from '../core/errors.js';
import type { ChainConnection } from './chain.js';
import type { NodeIdentity } from './identity.js';

interface Artifact {
  abi: Abi;
  bytecode: Hex;
}

let artifact: Artifact | undefined;
function registryArtifact(): Artifact {
  if (artifact) return artifact;
  try {
    artifact = JSON.parse(readFileSync(new URL('../../contracts/build/ExperienceRegistry.json', import.meta.url), 'utf8')) as Artifact;
  } catch (e) {
    throw new DsoError(
      'BACKEND_UNAVAILABLE',
      `the compiled ExperienceRegistry is missing (npm run build compiles it): ${(e as Error).message}`,
      { cause: e },
    );
  }
  return artifact;
}

export type BatchStatus = 'pending' | 'accepted' | 'rejected';
const STATUS: BatchStatus[] = ['pending', 'pending', 'accepted', 'rejected'];

export interface RegisteredBatch {
  id: bigint;
  root: Hex;
  cid: string;
  count: number;
  submitter: Hex;
  submittedAt: number;
  deadline: number;
  yes: number;
  no: number;
  status: BatchStatus;
}

interface RawBatch {
  root: Hex;
  cid: string;
  count: number;
  submitter: Hex;
  submittedAt: bigint;
  deadline: bigint;
  yes: number;
  no: number;
  status: number;
}

function toBatch(id: bigint, b: RawBatch): RegisteredBatch {
  return {
    id,
    root: b.root,
    cid: b.cid,
    count: Number(b.count),
    submitter: b.submitter,
    submittedAt: Number(b.submittedAt),
    deadline: Number(b.deadline),
    yes: Number(b.yes),
    no: Number(b.no),
    status: STATUS[b.status],
  };
}

function reverted(e: unknown, fn: string): DsoError {
  if (e instanceof BaseError) {
    const r = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (r instanceof ContractFunctionRevertedError) {
      const name = r.data?.errorName ?? r.reason ?? 'unknown';
      const err = new DsoError('CONTRACT_REVERTED', `${fn} reverted: ${name}${r.data?.args?.length ? `(${r.data.args.join(', ')})` : ''}`, {
        cause: e,
      });
      return Object.assign(err, { reason: name });
    }
    // A deployment's revert comes back as an execution error, its data in a field or only in the node's message.
    const causes: { message?: string; data?: unknown }[] = [];
    for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) causes.push(c);
    if (causes.some((c) => c instanceof ExecutionRevertedError || /revert/iu.test(c.message ?? ''))) {
      const data = causes
        .map((c) => (typeof c.data === 'string' ? c.data : /return data:\s*(0x[0-9a-fA-F]+)/u.exec(c.message ?? '')?.[1]))
        .find(Boolean) as Hex | undefined;
      let name = 'unknown';
      try {
        if (data) name = decodeErrorResult({ abi: registryArtifact().abi, data }).errorName;
      } catch {
        // not one of the contract's errors
      }
      return Object.assign(new DsoError('CONTRACT_REVERTED', `${fn} reverted: ${name}`, { cause: e }), { reason: name });
    }
    return new DsoError('CHAIN_ERROR', `${fn} failed: ${e.shortMessage}`, { cause: e });
  }
  return new DsoError('CHAIN_ERROR', `${fn} failed: ${(e as Error).message}`, { cause: e });
}

export interface DeployOptions {
  /** Votes needed before a batch can be accepted. */
  quorum: number;
  /** Seconds a batch is open for votes. */
  votingPeriod: number;
  members: Hex[];
}

export class RegistryClient {
  readonly address: Hex;
  private readonly wallet: WalletClient;
  private readonly reader: PublicClient;
  private readonly account: Account;

  private constructor(conn: ChainConnection, identity: NodeIdentity, address: Hex) {
    this.address = address;
    this.account = identity.account;
    this.wallet = createWalletClient({
      account: identity.account,
      chain: conn.chain,
      transport: conn.transport,
      pollingInterval: conn.pollingInterval,
    });
    this.reader = createPublicClient({
      chain: conn.chain,
      transport: conn.transport,
      pollingInterval: conn.pollingInterval,
    });
  }

  /** Deploys a registry from `identity` (its owner) and returns a client acting as it. */
  static async deploy(conn: ChainConnection, identity: NodeIdentity, opts: DeployOptions): Promise<RegistryClient> {
    const { abi, bytecode } = registryArtifact();
    const wallet = createWalletClient({
      account: identity.account,
      chain: conn.chain,
      transport: conn.transport,
      pollingInterval: conn.pollingInterval,
    });
    const reader = createPublicClient({ chain: conn.chain, transport: conn.transport, pollingInterval: conn.pollingInterval });
    try {
      const hash = await wallet.deployContract({ abi, bytecode, args: [opts.quorum, BigInt(opts.votingPeriod), opts.members] });
      const receipt = await reader.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success' || !receipt.contractAddress)
        throw new DsoError('CONTRACT_REVERTED', 'ExperienceRegistry deployment reverted');
      return new RegistryClient(conn, identity, receipt.contractAddress);
    } catch (e) {
      throw e instanceof DsoError ? e : reverted(e, 'deploy');
    }
  }

  /** A client for the registry at `address`, acting as `identity`. */
  static at(conn: ChainConnection, identity: NodeIdentity, address: Hex): RegistryClient {
    return new RegistryClient(conn, identity, address);
  }

  private async write(functionName: string, args: readonly unknown[]): Promise<{ result: unknown; logs: unknown[] }> {
    const { abi } = registryArtifact();
    try {
      const { request, result } = await this.reader.simulateContract({
        address: this.address,
        abi,
        functionName,
        args,
        account: this.account,
      });
      // Gas is estimated against the state now; another member's vote mined first can make this one the
      // vote that accepts the batch, which costs more. A margin keeps that from reverting out of gas.
      const estimate = await this.reader.estimateContractGas({ address: this.address, abi, functionName, args, account: this.account });
      const hash = await this.wallet.writeContract({ ...(request as object), gas: (estimate * 3n) / 2n + 50_000n } as never);
      const receipt = await this.reader.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success') throw new DsoError('CONTRACT_REVERTED', `${functionName} reverted in its block`);
      return { result, logs: receipt.logs };
    } catch (e) {
      throw e instanceof DsoError ? e : reverted(e, functionName);
    }
  }

  private async read<T>(functionName: string, args: readonly unknown[] = []): Promise<T> {
    try {
      return (await this.reader.readContract({ address: this.address, abi: registryArtifact().abi, functionName, args })) as T;
    } catch (e) {
      throw reverted(e, functionName);
    }
  }

  /** Registers a batch from this account; returns its id. */
  async submitBatch(root: Hex, cid: string, count: number): Promise<bigint> {
    return (await this.write('submitBatch', [root, cid, count])).result as bigint;
  }

  async vote(id: bigint, approve: boolean): Promise<void> {
    await this.write('vote', [id, approve]);
  }

  async finalize(id: bigint): Promise<void> {
    await this.write('finalize', [id]);
  }

  async addMember(account: Hex): Promise<void> {
    await this.write('addMember', [account]);
  }

  async removeMember(account: Hex): Promise<void> {
    await this.write('removeMember', [account]);
  }

  async proposeMember(account: Hex, add: boolean): Promise<bigint> {
    return (await this.write('proposeMember', [account, add])).result as bigint;
  }

  async voteMember(id: bigint, approve: boolean): Promise<void> {
    await this.write('voteMember', [id, approve]);
  }

  async isMember(account: Hex): Promise<boolean> {
    return this.read<boolean>('isMember', [account]);
  }

  async getBatch(id: bigint): Promise<RegisteredBatch> {
    return toBatch(id, await this.read<RawBatch>('getBatch', [id]));
  }

  async batchCount(): Promise<bigint> {
    return this.read<bigint>('batchCount');
  }

  async batchIdOf(root: Hex): Promise<bigint | undefined> {
    const [found, id] = await this.read<[boolean, bigint]>('batchIdOf', [root]);
    return found ? id : undefined;
  }

  async acceptedCount(): Promise<bigint> {
    return this.read<bigint>('acceptedCount');
  }

  /** Accepted batches in order of acceptance, `limit` from `offset`. */
  async acceptedBatches(offset: number, limit: number): Promise<RegisteredBatch[]> {
    const [ids, page] = await this.read<[bigint[], RawBatch[]]>('acceptedBatches', [BigInt(offset), BigInt(limit)]);
    return ids.map((id, i) => toBatch(id, page[i]));
  }
}
