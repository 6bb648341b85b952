/**
 * Client of contracts/ExperienceRegistry.sol through viem: deploy and
 * bootstrap, submit a batch, vote, finalize, propose and vote membership and
 * parameter changes, ownership, and the reads (batches, proposals, members,
 * status, events in block ranges).
 *
 * What a write returns comes from the mined transaction's receipt (a batch
 * id from its BatchSubmitted event), never from a simulation that another
 * transaction can overtake. Every failure is a typed DsoError: CONTRACT_REVERTED
 * with `reason` set to the contract's error name, whether the call was
 * refused before sending (gas estimation), reverted in its block (a lost
 * race, named by replaying the call on the state after that block) or not
 * sent because the chain's clock has passed its deadline; CHAIN_ERROR for an
 * RPC that failed or passed its deadline (chain.ts bounds every request and
 * every wait for a receipt).
 */
import { readFileSync } from 'node:fs';

import {
  type Abi,
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  ExecutionRevertedError,
  getAddress,
  type Hex,
  isAddressEqual,
  type Log,
  parseEventLogs,
  type PrivateKeyAccount,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from 'viem';

import { DsoError } from '../core/errors.js';
import type { ChainConnection } from './chain.js';
import { MAX_ENDPOINT_BYTES, parseEndpoint } from './endpoints.js';
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

export type DecisionStatus = 'pending' | 'accepted' | 'rejected' | 'expired';
/** A batch is never expired: without a quorum at its deadline it is rejected. */
export type BatchStatus = Exclude<DecisionStatus, 'expired'>;
const STATUS: DecisionStatus[] = ['pending', 'pending', 'accepted', 'rejected', 'expired'];

export type ProposalKind = 'addMember' | 'removeMember' | 'quorumBps' | 'approvalBps' | 'votingPeriod';
const KINDS: ProposalKind[] = ['addMember', 'removeMember', 'quorumBps', 'approvalBps', 'votingPeriod'];
export type ParameterName = Exclude<ProposalKind, 'addMember' | 'removeMember'>;

export interface RegistryParameters {
  /** Share of a decision's snapshot that must vote, in basis points [1, 10000] (rounded up to whole members). */
  quorumBps: number;
  /** Share of the cast votes that must approve, in basis points [5001, 10000]. */
  approvalBps: number;
  /** Seconds a batch or proposal is open for votes, [60, 365 days]. */
  votingPeriod: number;
}

/** Half of the members must vote, two thirds of them approve (6666 accepts 2 of 3), an hour to do it. */
export const DEFAULT_PARAMETERS: Readonly<RegistryParameters> = { quorumBps: 5000, approvalBps: 6666, votingPeriod: 3600 };

/** The vote on one batch or proposal, fixed when it was created. */
export interface Tally {
  /** Chain time (s) after which the vote is closed. */
  deadline: number;
  /** Membership epoch of the snapshot: its members, and only they, vote. */
  epoch: number;
  /** Members in the snapshot. */
  electorate: number;
  /** Votes needed. */
  quorum: number;
  approvalBps: number;
  /** Counting the submitter's or proposer's own yes. */
  yes: number;
  no: number;
}

export interface RegisteredBatch extends Tally {
  id: bigint;
  root: Hex;
  cid: string;
  count: number;
  submitter: Hex;
  submittedAt: number;
  status: BatchStatus;
}

export interface RegistryProposal extends Tally {
  id: bigint;
  kind: ProposalKind;
  /** The member to add or remove; the zero address for a parameter change. */
  account: Hex;
  /** The new parameter value; 0 for a membership change. */
  value: number;
  proposer: Hex;
  createdAt: number;
  status: DecisionStatus;
}

export interface RegistryStatus extends RegistryParameters {
  address: Hex;
  /** The zero address once renounced. */
  owner: Hex;
  bootstrapSealed: boolean;
  memberCount: number;
  membershipEpoch: number;
  pendingRemovals: number;
  batchCount: bigint;
  acceptedCount: bigint;
  proposalCount: bigint;
  /** The block the registry was deployed in (event scans start there). */
  deployedAt: bigint;
  /** The latest block when this was read. */
  head: ChainHead;
}

export interface ChainHead {
  number: bigint;
  hash: Hex;
  /** The block's timestamp: the chain's clock, which deadlines are measured on. */
  timestamp: number;
}

/** What the registry logs, decoded; Voted and ProposalVoted (one per vote) are left out of scans. */
export type RegistryEvent = { block: bigint; blockHash: Hex; logIndex: number; transaction: Hex } & (
  | { type: 'BatchSubmitted'; id: bigint; root: Hex; submitter: Hex; cid: string; count: number; deadline: number }
  | { type: 'BatchAccepted' | 'BatchRejected'; id: bigint; root: Hex }
  | { type: 'MemberAdded' | 'MemberRemoved'; account: Hex; epoch: number }
  | { type: 'ProposalCreated'; id: bigint; proposer: Hex; kind: ProposalKind; account: Hex; value: number; deadline: number }
  | { type: 'ProposalAccepted' | 'ProposalRejected' | 'ProposalExpired'; id: bigint }
  | { type: 'ParametersSet'; quorumBps: number; approvalBps: number; votingPeriod: number }
  | { type: 'OwnershipTransferred'; previousOwner: Hex; newOwner: Hex }
  | { type: 'BootstrapSealed'; members: number }
);
export type RegistryEventType = RegistryEvent['type'];
const SCANNED: RegistryEventType[] = [
  'BatchSubmitted',
  'BatchAccepted',
  'BatchRejected',
  'MemberAdded',
  'MemberRemoved',
  'ProposalCreated',
  'ProposalAccepted',
  'ProposalRejected',
  'ProposalExpired',
  'ParametersSet',
  'OwnershipTransferred',
  'BootstrapSealed',
];

/** A member's announced endpoint, parsed (endpoints.ts): what a node dials to reach it. */
export interface MemberEndpoint {
  account: Hex;
  /** Dialable multiaddrs with /p2p/<peer id>. */
  addresses: string[];
  /** Their peer ids. */
  peers: string[];
}

export interface DeployOptions extends Partial<Omit<RegistryParameters, 'votingPeriod'>> {
  /** Seconds, as in RegistryParameters (a bigint reaches the uint64 range the contract takes). */
  votingPeriod?: number | bigint;
  /** The initial members: the first page goes into the constructor, the rest through addMembers. */
  members: readonly Hex[];
  /** Members per transaction (default 150: about 7.5 M gas, under the 16.7 M a transaction may use). */
  pageSize?: number;
  /** Seal the bootstrap once the members are in (default false: the owner may still add members). */
  seal?: boolean;
}

const DEFAULT_PAGE = 150;
/** The contract's MAX_PAGE: paged reads return at most this many entries. */
const MAX_PAGE = 500;

interface RawTally {
  deadline: bigint;
  epoch: number;
  electorate: number;
  quorum: number;
  yes: number;
  no: number;
  approvalBps: number;
  status: number;
}

interface RawBatch {
  root: Hex;
  cid: string;
  submitter: Hex;
  count: number;
  submittedAt: bigint;
  tally: RawTally;
}

interface RawProposal {
  kind: number;
  account: Hex;
  value: bigint;
  proposer: Hex;
  createdAt: bigint;
  tally: RawTally;
}

function toTally(t: RawTally): Tally {
  return {
    deadline: Number(t.deadline),
    epoch: Number(t.epoch),
    electorate: Number(t.electorate),
    quorum: Number(t.quorum),
    approvalBps: Number(t.approvalBps),
    yes: Number(t.yes),
    no: Number(t.no),
  };
}

function toBatch(id: bigint, b: RawBatch): RegisteredBatch {
  return {
    id,
    root: b.root,
    cid: b.cid,
    count: Number(b.count),
    submitter: b.submitter,
    submittedAt: Number(b.submittedAt),
    ...toTally(b.tally),
    status: STATUS[b.tally.status] as BatchStatus,
  };
}

function toProposal(id: bigint, p: RawProposal): RegistryProposal {
  return {
    id,
    kind: KINDS[p.kind],
    account: p.account,
    value: Number(p.value),
    proposer: p.proposer,
    createdAt: Number(p.createdAt),
    ...toTally(p.tally),
    status: STATUS[p.tally.status],
  };
}

/** A CONTRACT_REVERTED error; `reason` is the contract's error name. */
export function contractError(message: string, reason: string, cause?: unknown): DsoError & { reason: string } {
  return Object.assign(new DsoError('CONTRACT_REVERTED', message, cause === undefined ? undefined : { cause }), { reason });
}

/** The contract's error name of a CONTRACT_REVERTED DsoError; undefined for anything else. */
export function revertReasonOf(e: unknown): string | undefined {
  if (!(e instanceof DsoError) || e.code !== 'CONTRACT_REVERTED') return undefined;
  return (e as { reason?: string }).reason;
}

/** Any failure of a call to the chain as a DsoError: the contract's own error when it reverted, else CHAIN_ERROR. */
function chainError(e: unknown, fn: string): DsoError {
  if (e instanceof DsoError) return e;
  const causes: { message?: string; data?: unknown; shortMessage?: string }[] = [];
  for (let c: unknown = e; c && causes.length < 16; c = (c as { cause?: unknown }).cause) causes.push(c);
  // A deadline of chain.ts's own, wrapped by viem.
  const own = causes.find((c): c is DsoError => c instanceof DsoError);
  if (own) return own;
  if (causes.some((c) => (c as Error).name === 'InsufficientFundsError'))
    return new DsoError('INSUFFICIENT_FUNDS', `${fn}: the sending account cannot pay for gas (fund it first)`, { cause: e });
  // Arguments the ABI cannot encode never reach the chain.
  const bad = causes.find((c) =>
    /^(Abi\w*Error|IntegerOutOfRangeError|InvalidAddressError|SizeOverflowError)$/u.test((c as Error).name ?? ''),
  );
  if (bad) return new DsoError('INVALID_ARGUMENT', `${fn}: ${(bad as BaseError).shortMessage ?? (bad as Error).message}`, { cause: e });
  if (e instanceof BaseError) {
    const r = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (r instanceof ContractFunctionRevertedError && r.data?.errorName) {
      const args = r.data.args?.length ? `(${r.data.args.map(String).join(', ')})` : '';
      return contractError(`${fn} reverted: ${r.data.errorName}${args}`, r.data.errorName, e);
    }
    // A deployment's or an estimate's revert comes back as an execution error, its data in a field or only in the node's message.
    if (
      causes.some(
        (c) => c instanceof ExecutionRevertedError || c instanceof ContractFunctionRevertedError || /revert/iu.test(c.message ?? ''),
      )
    ) {
      const data = causes
        .map((c) => (typeof c.data === 'string' ? c.data : /return data:\s*(0x[0-9a-fA-F]+)/u.exec(c.message ?? '')?.[1]))
        .find(Boolean) as Hex | undefined;
      let name: string | undefined;
      try {
        if (data) name = decodeErrorResult({ abi: registryArtifact().abi, data }).errorName;
      } catch {
        // not one of the contract's errors
      }
      // Without data the EVM refused the call itself (a Panic carries data; a bare revert is out of gas or a bad opcode).
      name ??= 'Reverted';
      return contractError(`${fn} reverted: ${name}`, name, e);
    }
    return new DsoError('CHAIN_ERROR', `${fn} failed: ${e.shortMessage}`, { cause: e });
  }
  return new DsoError('CHAIN_ERROR', `${fn} failed: ${(e as Error).message}`, { cause: e });
}

/**
 * One account's transactions go out one at a time (each takes the next
 * nonce from the chain's pending count once the one before was accepted by
 * the node); their receipts are awaited concurrently.
 */
const sendQueues = new WeakMap<ChainConnection, Map<string, Promise<unknown>>>();
function queued<T>(conn: ChainConnection, account: Hex, job: () => Promise<T>): Promise<T> {
  let queues = sendQueues.get(conn);
  if (!queues) {
    queues = new Map<string, Promise<unknown>>();
    sendQueues.set(conn, queues);
  }
  const prev = queues.get(account) ?? Promise.resolve();
  const run = prev.then(job, job);
  const tail = run.catch(() => undefined);
  queues.set(account, tail);
  void tail.then(() => {
    if (queues.get(account) === tail) queues.delete(account);
  });
  return run;
}

export class RegistryClient {
  readonly address: Hex;
  /** The account this client acts as. */
  readonly account: Hex;
  private readonly wallet: WalletClient;
  private readonly reader: PublicClient;
  private deployedBlock: bigint | undefined;
  private readonly signer: PrivateKeyAccount;

  private constructor(
    private readonly conn: ChainConnection,
    identity: NodeIdentity,
    address: Hex,
  ) {
    this.address = getAddress(address);
    this.account = identity.address;
    this.signer = identity.account;
    this.wallet = createWalletClient({
      account: identity.account,
      chain: conn.chain,
      transport: conn.transport,
      pollingInterval: conn.pollingInterval,
    });
    this.reader = createPublicClient({ chain: conn.chain, transport: conn.transport, pollingInterval: conn.pollingInterval });
  }

  /**
   * Deploys a registry from `identity` (its owner) with the given parameters
   * (DEFAULT_PARAMETERS for those left out), adds the members in pages,
   * seals the bootstrap if asked, and returns a client acting as the owner.
   */
  static async deploy(conn: ChainConnection, identity: NodeIdentity, opts: DeployOptions): Promise<RegistryClient> {
    const { abi, bytecode } = registryArtifact();
    const p = { ...DEFAULT_PARAMETERS, ...opts };
    const page = pageSize(opts.pageSize);
    const wallet = createWalletClient({
      account: identity.account,
      chain: conn.chain,
      transport: conn.transport,
      pollingInterval: conn.pollingInterval,
    });
    const reader = createPublicClient({ chain: conn.chain, transport: conn.transport, pollingInterval: conn.pollingInterval });
    let address: Hex;
    try {
      const receipt = await queued(conn, identity.address, async () => {
        const hash = await wallet.deployContract({
          abi,
          bytecode,
          args: [p.quorumBps, p.approvalBps, BigInt(p.votingPeriod), opts.members.slice(0, page)],
        });
        return hash;
      }).then((hash) => reader.waitForTransactionReceipt({ hash, timeout: conn.receiptTimeoutMs, pollingInterval: conn.pollingInterval }));
      if (receipt.status !== 'success' || !receipt.contractAddress)
        throw contractError('ExperienceRegistry deployment reverted in its block', 'Reverted');
      address = receipt.contractAddress;
    } catch (e) {
      throw chainError(e, 'deploy');
    }
    const client = new RegistryClient(conn, identity, address);
    await client.addMembers(opts.members.slice(page), page);
    if (opts.seal) await client.sealBootstrap();
    return client;
  }

  /** A client for the registry at `address`, acting as `identity`. */
  static at(conn: ChainConnection, identity: NodeIdentity, address: Hex): RegistryClient {
    return new RegistryClient(conn, identity, address);
  }

  /**
   * Like `at`, after checking that an ExperienceRegistry answers at `address`:
   * NOT_A_REGISTRY when there is no contract there or it does not answer as one.
   */
  static async open(conn: ChainConnection, identity: NodeIdentity, address: Hex): Promise<RegistryClient> {
    const client = new RegistryClient(conn, identity, address);
    let code: Hex | undefined;
    try {
      code = await client.reader.getCode({ address: client.address });
    } catch (e) {
      throw chainError(e, 'getCode');
    }
    if (code === undefined || code === '0x')
      throw new DsoError('NOT_A_REGISTRY', `no contract at ${client.address} on ${conn.where} (chain ${conn.chain.id})`);
    try {
      await client.deployedAt();
    } catch (e) {
      if (e instanceof DsoError && e.code === 'CHAIN_ERROR') throw e;
      throw new DsoError('NOT_A_REGISTRY', `the contract at ${client.address} does not answer as an ExperienceRegistry`, { cause: e });
    }
    return client;
  }

  // ---- transactions ----

  /** Estimates (a refusal comes back named), sends, waits for the receipt; a revert in the block is named by a replay. */
  private async send(functionName: string, args: readonly unknown[]): Promise<TransactionReceipt> {
    const call = { address: this.address, abi: registryArtifact().abi, functionName, args, account: this.signer };
    let gas = 0n;
    let receipt: TransactionReceipt;
    try {
      const hash = await queued(this.conn, this.account, async () => {
        // Gas is estimated against the state now; another member's vote mined first can make this one the
        // vote that decides (an acceptance, a member added), which costs more. A margin covers that and stays
        // small enough that a page of members keeps under the 2^24 gas a transaction may use (EIP-7825).
        const estimate = await this.reader.estimateContractGas(call);
        gas = estimate + estimate / 5n + 150_000n;
        return this.wallet.writeContract({ ...call, chain: this.conn.chain, gas });
      });
      receipt = await this.reader.waitForTransactionReceipt({
        hash,
        timeout: this.conn.receiptTimeoutMs,
        pollingInterval: this.conn.pollingInterval,
      });
    } catch (e) {
      throw chainError(e, functionName);
    }
    if (receipt.status === 'success') return receipt;
    // Replayed on the state after its block, a call that lost a race meets what beat it (VotingClosed, AlreadyVoted).
    try {
      await this.reader.simulateContract({ ...call, blockNumber: receipt.blockNumber });
    } catch (e) {
      const err = chainError(e, functionName);
      const reason = revertReasonOf(err);
      if (reason) throw contractError(`${functionName} reverted in block ${receipt.blockNumber}: ${reason}`, reason, e);
    }
    const reason = receipt.gasUsed >= gas ? 'OutOfGas' : 'Reverted';
    throw contractError(`${functionName} reverted in block ${receipt.blockNumber}: ${reason}`, reason);
  }

  private events(receipt: TransactionReceipt, eventName: string): { args: Record<string, unknown> }[] {
    const logs = receipt.logs.filter((l) => isAddressEqual(l.address, this.address));
    return parseEventLogs({ abi: registryArtifact().abi, logs, eventName }) as unknown as { args: Record<string, unknown> }[];
  }

  /** Registers a batch from this account (a member); the registration is its yes vote. Returns the id the chain gave it. */
  async submitBatch(root: Hex, cid: string, count: number): Promise<bigint> {
    const receipt = await this.send('submitBatch', [root, cid, count]);
    const ev = this.events(receipt, 'BatchSubmitted').find(
      (e) => e.args.root === root && isAddressEqual(e.args.submitter as Hex, this.account),
    );
    if (!ev) throw new DsoError('CHAIN_ERROR', `submitBatch was mined in block ${receipt.blockNumber} without its BatchSubmitted event`);
    return ev.args.id as bigint;
  }

  /** Votes on a batch; not sent (VotingClosed) when it is decided or the chain's clock has reached its deadline. */
  async vote(id: bigint, approve: boolean): Promise<void> {
    const [b, head] = await Promise.all([this.getBatch(id), this.head()]);
    if (b.status !== 'pending' || head.timestamp >= b.deadline)
      throw contractError(
        `vote on batch ${id} not sent: it is ${b.status}, deadline ${b.deadline}, chain time ${head.timestamp}`,
        'VotingClosed',
      );
    await this.send('vote', [id, approve]);
  }

  /**
   * Decides a batch after its deadline (anyone may). Returns its status; a
   * batch already decided, here or by another caller in the same block,
   * returns its status without error.
   */
  async finalize(id: bigint): Promise<BatchStatus> {
    const b = await this.getBatch(id);
    if (b.status !== 'pending') return b.status;
    try {
      const receipt = await this.send('finalize', [id]);
      return this.events(receipt, 'BatchAccepted').length > 0 ? 'accepted' : 'rejected';
    } catch (e) {
      if (revertReasonOf(e) !== 'VotingClosed') throw e;
      return (await this.getBatch(id)).status;
    }
  }

  /** Proposes adding (`add`) or removing a member; the proposal is the proposer's yes vote. Returns its id. */
  async proposeMember(account: Hex, add: boolean): Promise<bigint> {
    return this.proposalId(await this.send('proposeMember', [account, add]));
  }

  /** Proposes a new value for one parameter. Returns the proposal's id. */
  async proposeParameter(name: ParameterName, value: number): Promise<bigint> {
    return this.proposalId(await this.send('proposeParameter', [KINDS.indexOf(name), BigInt(value)]));
  }

  private proposalId(receipt: TransactionReceipt): bigint {
    const ev = this.events(receipt, 'ProposalCreated').find((e) => isAddressEqual(e.args.proposer as Hex, this.account));
    if (!ev) throw new DsoError('CHAIN_ERROR', `a proposal was mined in block ${receipt.blockNumber} without its ProposalCreated event`);
    return ev.args.id as bigint;
  }

  /** Votes on a proposal; not sent (VotingClosed) when it is decided or the chain's clock has reached its deadline. */
  async voteProposal(id: bigint, approve: boolean): Promise<void> {
    const [p, head] = await Promise.all([this.getProposal(id), this.head()]);
    if (p.status !== 'pending' || head.timestamp >= p.deadline)
      throw contractError(
        `vote on proposal ${id} not sent: it is ${p.status}, deadline ${p.deadline}, chain time ${head.timestamp}`,
        'VotingClosed',
      );
    await this.send('voteProposal', [id, approve]);
  }

  /** Decides a proposal after its deadline (anyone may); like finalize, returns the status it ends with. */
  async finalizeProposal(id: bigint): Promise<DecisionStatus> {
    const p = await this.getProposal(id);
    if (p.status !== 'pending') return p.status;
    try {
      await this.send('finalizeProposal', [id]);
    } catch (e) {
      if (revertReasonOf(e) !== 'VotingClosed') throw e;
    }
    return (await this.getProposal(id)).status;
  }

  /** Owner, before the bootstrap is sealed: adds members, `pageSize` per transaction. */
  async addMembers(accounts: readonly Hex[], size?: number): Promise<void> {
    const page = pageSize(size);
    for (let i = 0; i < accounts.length; i += page) await this.send('addMembers', [accounts.slice(i, i + page)]);
  }

  /** Member: announces where its node listens (endpoints.ts formats it); TOO_LARGE past MAX_ENDPOINT_BYTES, not sent. */
  async setEndpoint(text: string): Promise<void> {
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_ENDPOINT_BYTES) throw new DsoError('TOO_LARGE', `an endpoint holds at most ${MAX_ENDPOINT_BYTES} bytes, got ${bytes}`);
    await this.send('setEndpoint', [text]);
  }

  /** Owner: ends its power over membership for good. */
  async sealBootstrap(): Promise<void> {
    await this.send('sealBootstrap', []);
  }

  async transferOwnership(to: Hex): Promise<void> {
    await this.send('transferOwnership', [to]);
  }

  async renounceOwnership(): Promise<void> {
    await this.send('renounceOwnership', []);
  }

  // ---- reads ----

  /** The id of the chain this client talks to. */
  get chainId(): number {
    return this.conn.chain.id;
  }

  /** An account's balance in wei (default: this one's): what it has to pay gas with. */
  async balance(account: Hex = this.account): Promise<bigint> {
    try {
      return await this.reader.getBalance({ address: account });
    } catch (e) {
      throw chainError(e, 'getBalance');
    }
  }

  private async read<T>(functionName: string, args: readonly unknown[] = []): Promise<T> {
    try {
      return (await this.reader.readContract({ address: this.address, abi: registryArtifact().abi, functionName, args })) as T;
    } catch (e) {
      throw chainError(e, functionName);
    }
  }

  /** The latest block: its number, hash and timestamp (the chain's clock). */
  async head(): Promise<ChainHead> {
    const h = await this.block('latest');
    if (!h) throw new DsoError('CHAIN_ERROR', 'the chain has no latest block');
    return h;
  }

  /** A block by number (undefined when the chain has none there, e.g. after a rollback). */
  async block(at: bigint | 'latest'): Promise<ChainHead | undefined> {
    try {
      const b = await this.reader.getBlock(at === 'latest' ? { blockTag: 'latest' } : { blockNumber: at });
      if (b.number === null || b.hash === null) return undefined;
      return { number: b.number, hash: b.hash, timestamp: Number(b.timestamp) };
    } catch (e) {
      if (e instanceof BaseError && e.name === 'BlockNotFoundError') return undefined;
      throw chainError(e, 'getBlock');
    }
  }

  /** The registry's events (but votes) in blocks [fromBlock, toBlock], in chain order; the caller bounds the range. */
  async eventsIn(fromBlock: bigint, toBlock: bigint): Promise<RegistryEvent[]> {
    const abi = registryArtifact().abi;
    const events = abi.filter((x) => x.type === 'event' && (SCANNED as string[]).includes(x.name));
    let logs: Log[];
    try {
      logs = await this.reader.getLogs({ address: this.address, events: events as never, fromBlock, toBlock, strict: true });
    } catch (e) {
      throw chainError(e, 'getLogs');
    }
    const parsed = parseEventLogs({ abi, logs }) as unknown as (Log & { eventName: RegistryEventType; args: Record<string, unknown> })[];
    parsed.sort((a, b) =>
      a.blockNumber === b.blockNumber ? (a.logIndex ?? 0) - (b.logIndex ?? 0) : a.blockNumber! < b.blockNumber! ? -1 : 1,
    );
    return parsed.map((l) => decodeEvent(l));
  }

  async getBatch(id: bigint): Promise<RegisteredBatch> {
    return toBatch(id, await this.read<RawBatch>('getBatch', [id]));
  }

  async batchCount(): Promise<bigint> {
    return this.read<bigint>('batchCount');
  }

  /** The id of the batch `submitter` (default: this account) registered with `root`. */
  async batchIdOf(root: Hex, submitter: Hex = this.account): Promise<bigint | undefined> {
    const [found, id] = await this.read<[boolean, bigint]>('batchIdOf', [submitter, root]);
    return found ? id : undefined;
  }

  /** Whether `account` (default: this one) voted on batch `id`; the submitter has, by submitting. */
  async hasVoted(id: bigint, account: Hex = this.account): Promise<boolean> {
    return this.read<boolean>('hasVoted', [id, account]);
  }

  /** Whether `account` (default: this one) may vote on batch `id` now: open, in its snapshot, not voted. */
  async canVote(id: bigint, account: Hex = this.account): Promise<boolean> {
    return this.read<boolean>('canVote', [id, account]);
  }

  /**
   * The votes cast on batch `id`, from its Voted events (one per member at
   * most, so the answer is bounded by the membership). The submitter's yes is
   * its submission and has no Voted event.
   */
  async batchVotes(id: bigint, fromBlock?: bigint): Promise<{ member: Hex; approve: boolean }[]> {
    const abi = registryArtifact().abi;
    const event = abi.find((x) => x.type === 'event' && x.name === 'Voted');
    let logs: Log[];
    try {
      logs = await this.reader.getLogs({
        address: this.address,
        event: event as never,
        args: { id } as never,
        fromBlock: fromBlock ?? (await this.deployedAt()),
        toBlock: 'latest',
        strict: true,
      });
    } catch (e) {
      throw chainError(e, 'getLogs');
    }
    const parsed = parseEventLogs({ abi, logs, eventName: 'Voted' }) as unknown as {
      args: { id: bigint; member: Hex; approve: boolean };
    }[];
    const seen = new Map<string, { member: Hex; approve: boolean }>();
    for (const l of parsed)
      if (l.args.id === id) seen.set(getAddress(l.args.member), { member: getAddress(l.args.member), approve: l.args.approve });
    return [...seen.values()];
  }

  async acceptedCount(): Promise<bigint> {
    return this.read<bigint>('acceptedCount');
  }

  /** Accepted batches in order of acceptance: at most min(limit, 500) from `offset`. */
  async acceptedBatches(offset: number | bigint, limit: number | bigint): Promise<RegisteredBatch[]> {
    const [ids, page] = await this.read<[bigint[], RawBatch[]]>('acceptedBatches', [BigInt(offset), BigInt(limit)]);
    return ids.map((id, i) => toBatch(id, page[i]));
  }

  async getProposal(id: bigint): Promise<RegistryProposal> {
    return toProposal(id, await this.read<RawProposal>('getProposal', [id]));
  }

  async proposalCount(): Promise<bigint> {
    return this.read<bigint>('proposalCount');
  }

  async hasVotedOnProposal(id: bigint, account: Hex = this.account): Promise<boolean> {
    return this.read<boolean>('hasVotedOnProposal', [id, account]);
  }

  async canVoteProposal(id: bigint, account: Hex = this.account): Promise<boolean> {
    return this.read<boolean>('canVoteProposal', [id, account]);
  }

  /** The open proposal of this kind about `account` (membership kinds) or about the parameter. */
  async openProposalOf(kind: ProposalKind, account: Hex = '0x0000000000000000000000000000000000000000'): Promise<bigint | undefined> {
    const [found, id] = await this.read<[boolean, bigint]>('openProposalOf', [KINDS.indexOf(kind), account]);
    return found ? id : undefined;
  }

  async isMember(account: Hex = this.account): Promise<boolean> {
    return this.read<boolean>('isMember', [account]);
  }

  async memberCount(): Promise<number> {
    return Number(await this.read<bigint>('memberCount'));
  }

  /** Current members, in no particular order: at most min(limit, 500) from `offset`. */
  async members(offset: number | bigint = 0, limit: number | bigint = MAX_PAGE): Promise<Hex[]> {
    return [...(await this.read<readonly Hex[]>('members', [BigInt(offset), BigInt(limit)]))];
  }

  /** Every current member, paged. */
  async allMembers(): Promise<Hex[]> {
    const out: Hex[] = [];
    for (;;) {
      const page = await this.members(out.length, MAX_PAGE);
      out.push(...page);
      if (page.length < MAX_PAGE) return out;
    }
  }

  /** What `account` (default: this one) announced, as written (untrusted text; empty when nothing). */
  async endpoint(account: Hex = this.account): Promise<string> {
    return this.read<string>('endpoint', [account]);
  }

  /** Current members and their endpoints as written: at most min(limit, 500) from `offset`. */
  async endpoints(offset: number | bigint = 0, limit: number | bigint = MAX_PAGE): Promise<Array<{ account: Hex; endpoint: string }>> {
    const [accounts, texts] = await this.read<[readonly Hex[], readonly string[]]>('endpoints', [BigInt(offset), BigInt(limit)]);
    return accounts.map((account, i) => ({ account, endpoint: texts[i] ?? '' }));
  }

  /**
   * The dialable endpoints of the first `maxMembers` members (default 1,000),
   * paged; a member that announced nothing usable is left out.
   */
  async memberEndpoints(maxMembers = 1000): Promise<MemberEndpoint[]> {
    const out: MemberEndpoint[] = [];
    for (let offset = 0; offset < maxMembers; offset += MAX_PAGE) {
      const page = await this.endpoints(offset, Math.min(MAX_PAGE, maxMembers - offset));
      for (const { account, endpoint } of page) {
        const parsed = parseEndpoint(endpoint);
        if (parsed.length > 0) out.push({ account, addresses: parsed.map((p) => p.address), peers: parsed.map((p) => p.peer) });
      }
      if (page.length < MAX_PAGE) break;
    }
    return out;
  }

  /** Whether `account` was a member at membership epoch `epoch` (a snapshot's members vote on it). */
  async wasMember(account: Hex, epoch: number): Promise<boolean> {
    return this.read<boolean>('wasMember', [account, epoch]);
  }

  /** The block the registry was deployed in: where a scan of its events starts. */
  /** The block the registry was deployed in; immutable, so asked once (batchVotes and the cursor start there). */
  async deployedAt(): Promise<bigint> {
    this.deployedBlock ??= await this.read<bigint>('deployedAt');
    return this.deployedBlock;
  }

  async parameters(): Promise<RegistryParameters> {
    const [quorumBps, approvalBps, votingPeriod] = await Promise.all([
      this.read<number>('quorumBps'),
      this.read<number>('approvalBps'),
      this.read<bigint>('votingPeriod'),
    ]);
    return { quorumBps: Number(quorumBps), approvalBps: Number(approvalBps), votingPeriod: Number(votingPeriod) };
  }

  /** Everything a status page shows, read at one block. */
  async status(): Promise<RegistryStatus> {
    const head = await this.head();
    const at = async <T>(fn: string) => {
      try {
        return (await this.reader.readContract({
          address: this.address,
          abi: registryArtifact().abi,
          functionName: fn,
          blockNumber: head.number,
        })) as T;
      } catch (e) {
        throw chainError(e, fn);
      }
    };
    const [owner, sealed, quorumBps, approvalBps, votingPeriod, members, epoch, removals, batches, accepted, proposals, deployedAt] =
      await Promise.all([
        at<Hex>('owner'),
        at<boolean>('bootstrapSealed'),
        at<number>('quorumBps'),
        at<number>('approvalBps'),
        at<bigint>('votingPeriod'),
        at<bigint>('memberCount'),
        at<number>('membershipEpoch'),
        at<number>('pendingRemovals'),
        at<bigint>('batchCount'),
        at<bigint>('acceptedCount'),
        at<bigint>('proposalCount'),
        at<bigint>('deployedAt'),
      ]);
    return {
      address: this.address,
      owner,
      bootstrapSealed: sealed,
      quorumBps: Number(quorumBps),
      approvalBps: Number(approvalBps),
      votingPeriod: Number(votingPeriod),
      memberCount: Number(members),
      membershipEpoch: Number(epoch),
      pendingRemovals: Number(removals),
      batchCount: batches,
      acceptedCount: accepted,
      proposalCount: proposals,
      deployedAt,
      head,
    };
  }
}

function pageSize(size: number | undefined): number {
  const page = size ?? DEFAULT_PAGE;
  if (!Number.isInteger(page) || page < 1) throw new DsoError('INVALID_COUNT', `pageSize must be a positive integer, got ${page}`);
  return page;
}

function decodeEvent(l: Log & { eventName: RegistryEventType; args: Record<string, unknown> }): RegistryEvent {
  const base = {
    block: l.blockNumber as bigint,
    blockHash: l.blockHash as Hex,
    logIndex: l.logIndex as number,
    transaction: l.transactionHash as Hex,
  };
  const a = l.args;
  switch (l.eventName) {
    case 'BatchSubmitted':
      return {
        ...base,
        type: l.eventName,
        id: a.id as bigint,
        root: a.root as Hex,
        submitter: a.submitter as Hex,
        cid: a.cid as string,
        count: Number(a.count),
        deadline: Number(a.deadline),
      };
    case 'BatchAccepted':
    case 'BatchRejected':
      return { ...base, type: l.eventName, id: a.id as bigint, root: a.root as Hex };
    case 'MemberAdded':
    case 'MemberRemoved':
      return { ...base, type: l.eventName, account: a.account as Hex, epoch: Number(a.epoch) };
    case 'ProposalCreated':
      return {
        ...base,
        type: l.eventName,
        id: a.id as bigint,
        proposer: a.proposer as Hex,
        kind: KINDS[Number(a.kind)],
        account: a.account as Hex,
        value: Number(a.value),
        deadline: Number(a.deadline),
      };
    case 'ProposalAccepted':
    case 'ProposalRejected':
    case 'ProposalExpired':
      return { ...base, type: l.eventName, id: a.id as bigint };
    case 'ParametersSet':
      return {
        ...base,
        type: l.eventName,
        quorumBps: Number(a.quorumBps),
        approvalBps: Number(a.approvalBps),
        votingPeriod: Number(a.votingPeriod),
      };
    case 'OwnershipTransferred':
      return { ...base, type: l.eventName, previousOwner: a.previousOwner as Hex, newOwner: a.newOwner as Hex };
    case 'BootstrapSealed':
      return { ...base, type: l.eventName, members: Number(a.members) };
  }
}
