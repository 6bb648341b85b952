/**
 * The chain the registry lives on: by default an EVM inside this process
 * (Hardhat 3's EDR, driven from code, no CLI and no port), or any JSON-RPC
 * endpoint by URL (anvil, a testnet, mainnet). Either way viem talks to it
 * through an EIP-1193 transport.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  BaseError,
  type Chain,
  createPublicClient,
  custom,
  defineChain,
  type EIP1193Provider,
  type Hex,
  http,
  numberToHex,
  type Transport,
} from 'viem';

import { DsoError } from '../core/errors.js';

export interface ChainConnection {
  chain: Chain;
  transport: Transport;
  /** Where it runs: 'in-process' or the RPC URL. */
  where: string;
  /** How often to poll for receipts and events (ms). */
  pollingInterval: number;
  /** Deadline of one JSON-RPC request (ms): a request that takes longer fails with CHAIN_ERROR. */
  rpcTimeoutMs: number;
  /** How long a sent transaction may take to be mined (ms) before CHAIN_ERROR. */
  receiptTimeoutMs: number;
  /** Gives an account ether (in-process and development chains only). */
  fund(address: Hex, wei: bigint): Promise<void>;
  /** Moves the chain's clock forward (development chains only). */
  advanceTime(seconds: number): Promise<void>;
  close(): Promise<void>;
}

function chainOf(id: number, url: string): Chain {
  return defineChain({
    id,
    name: `dso-${id}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });
}

async function devHelpers(request: (a: { method: string; params?: unknown[] }) => Promise<unknown>, setBalance: string) {
  return {
    fund: async (address: Hex, wei: bigint) => void (await request({ method: setBalance, params: [address, numberToHex(wei)] })),
    advanceTime: async (seconds: number) => {
      await request({ method: 'evm_increaseTime', params: [numberToHex(seconds)] });
      await request({ method: 'evm_mine', params: [] });
    },
  };
}

/** This package's root: Hardhat needs a project root with a package.json, whatever the caller's working directory. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

export interface ChainTimeouts {
  /** Deadline of one JSON-RPC request (ms, default 30,000). */
  rpcTimeoutMs?: number;
  /** How long a sent transaction may take to be mined (ms, default 120,000). */
  receiptTimeoutMs?: number;
}

const DEFAULT_RPC_TIMEOUT_MS = 30_000;
const DEFAULT_RECEIPT_TIMEOUT_MS = 120_000;

/** `provider.request` with a deadline: EIP-1193 providers have none of their own. */
function withDeadline(provider: EIP1193Provider, ms: number): EIP1193Provider {
  const request = (async (args: { method: string; params?: unknown }) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DsoError('CHAIN_ERROR', `${args.method} got no answer within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([provider.request(args as never), late]);
    } finally {
      clearTimeout(timer);
    }
  }) as EIP1193Provider['request'];
  return { ...provider, request };
}

/** An EVM in this process (Hardhat 3's EDR): chain id 31337, instant mining. */
export async function startInProcessChain(opts: ChainTimeouts = {}): Promise<ChainConnection> {
  let connection: { provider: EIP1193Provider; close(): Promise<void> };
  try {
    const { createHardhatRuntimeEnvironment } = await import('hardhat/hre');
    const hre = await createHardhatRuntimeEnvironment({}, {}, packageRoot());
    connection = (await hre.network.connect()) as unknown as typeof connection;
  } catch (e) {
    throw new DsoError('BACKEND_UNAVAILABLE', `the in-process EVM (hardhat/EDR) could not start: ${(e as Error).message}`, { cause: e });
  }
  const rpcTimeoutMs = opts.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const provider = withDeadline(connection.provider, rpcTimeoutMs);
  const id = Number(await provider.request({ method: 'eth_chainId' }));
  return {
    chain: chainOf(id, 'http://in-process'),
    // Nothing in-process is transient: a retried revert would only be slower.
    transport: custom(provider, { retryCount: 0 }),
    where: 'in-process',
    // Blocks are mined at once; viem's default 4 s poll would be the whole cost of a transaction.
    pollingInterval: 10,
    rpcTimeoutMs,
    receiptTimeoutMs: opts.receiptTimeoutMs ?? DEFAULT_RECEIPT_TIMEOUT_MS,
    ...(await devHelpers((a) => provider.request(a as never), 'hardhat_setBalance')),
    close: () => connection.close(),
  };
}

/** viem's message in one line: its short message and the transport's detail (the full one repeats the request). */
function oneLine(e: unknown): string {
  if (e instanceof BaseError) return e.details && e.details !== e.shortMessage ? `${e.shortMessage} (${e.details})` : e.shortMessage;
  return (e as Error).message;
}

/** A JSON-RPC chain by URL; its chain id is asked once. */
export async function connectChain(url: string, opts: { pollingInterval?: number } & ChainTimeouts = {}): Promise<ChainConnection> {
  const rpcTimeoutMs = opts.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const transport = http(url, { retryCount: 2, timeout: rpcTimeoutMs });
  const client = createPublicClient({ transport });
  let id: number;
  try {
    id = await client.getChainId();
  } catch (e) {
    throw new DsoError('CHAIN_ERROR', `cannot reach the chain at ${url}: ${oneLine(e)}`, { cause: e });
  }
  const request = async (a: { method: string; params?: unknown[] }) => {
    try {
      return await client.request(a as never);
    } catch (e) {
      throw new DsoError('CHAIN_ERROR', `${a.method} failed on ${url}: ${oneLine(e)}`, { cause: e });
    }
  };
  // anvil names its balance method after itself; hardhat-compatible nodes answer hardhat_setBalance.
  return {
    chain: chainOf(id, url),
    transport,
    where: url,
    pollingInterval: opts.pollingInterval ?? 1000,
    rpcTimeoutMs,
    receiptTimeoutMs: opts.receiptTimeoutMs ?? DEFAULT_RECEIPT_TIMEOUT_MS,
    ...(await devHelpers(request, 'anvil_setBalance')),
    close: async () => undefined,
  };
}
