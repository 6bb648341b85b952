/**
 * GAS: what each ExperienceRegistry operation costs, at 10, 100 and 1,000
 * members, measured from the receipts of real transactions on the
 * in-process EVM (Hardhat EDR, the contract compiled for cancun) through
 * RegistryClient. Every figure is one transaction's gasUsed; "of limit" is
 * its share of the 2^24 gas a transaction may use (EIP-7825).
 *
 * setEndpoint is a member announcing its node's p2p address (discovery).
 *
 * The deciding vote on a batch is the vote that makes acceptance certain
 * (with 6666 bps approval: ceil(2/3 N) yes). Proposals are carried out by
 * finalizeProposal after the deadline, with the quorum set to 1 bp so the
 * proposer's yes is enough: a deciding vote costs the same execution.
 */
import { createPublicClient, type Hex, keccak256, parseEther, toHex } from 'viem';

import { startInProcessChain } from '../../src/network/chain.js';
import { identityFromKey } from '../../src/network/identity.js';
import { RegistryClient } from '../../src/network/registry.js';
import type { Row } from '../lib/report.js';

const TX_GAS_CAP = 2 ** 24;
const PAGE = 150;
/** Long enough for 1,000 votes in 1,000 blocks, each at least a second after the one before. */
const PERIOD = 7200;

export async function gasWorkload(sizes: number[]): Promise<Row[]> {
  const conn = await startInProcessChain();
  const chain = createPublicClient({ chain: conn.chain, transport: conn.transport });
  /** gasUsed of the latest block's transaction (the in-process chain mines one per block). */
  const lastGas = async (): Promise<number> => {
    const block = await chain.getBlock({ blockTag: 'latest' });
    return Number((await chain.getTransactionReceipt({ hash: block.transactions[0] })).gasUsed);
  };
  const rows: Row[] = [];
  const table = new Map<string, Map<number, number>>();
  const put = (op: string, n: number, gas: number, seconds: number, txGas = gas) => {
    table.set(op, (table.get(op) ?? new Map<number, number>()).set(n, gas));
    rows.push({
      workload: 'GAS registry',
      impl: op,
      size: `${n} members`,
      seconds,
      throughput: gas,
      unit: 'gas',
      ofLimit: txGas / TX_GAS_CAP,
      limit: 'tx cap',
    });
  };
  try {
    for (const n of sizes) {
      const owner = identityFromKey(keccak256(toHex(`dso gas owner ${n}`)));
      const members = Array.from({ length: n }, (_, i) => identityFromKey(keccak256(toHex(`dso gas member ${n} ${i}`))));
      const newcomer = identityFromKey(keccak256(toHex(`dso gas newcomer ${n}`)));
      for (const id of [owner, newcomer, ...members]) await conn.fund(id.address, parseEther('100'));
      const record = async (op: string, run: () => Promise<unknown>) => {
        const t0 = performance.now();
        await run();
        put(op, n, await lastGas(), (performance.now() - t0) / 1000);
      };
      let address: Hex = '0x';
      await record('deploy (no members)', async () => {
        address = (await RegistryClient.deploy(conn, owner, { members: [], quorumBps: 1, votingPeriod: PERIOD })).address;
      });
      const reg = RegistryClient.at(conn, owner, address);
      const as = (i: number) => RegistryClient.at(conn, members[i], address);
      // Bootstrap in pages; the figure is the first (full) page's gas per member.
      for (let i = 0; i < n; i += PAGE) {
        const t0 = performance.now();
        const page = members.slice(i, i + PAGE);
        await reg.addMembers(
          page.map((m) => m.address),
          PAGE,
        );
        const gas = await lastGas();
        if (i === 0)
          put(`addMembers, per member (pages of up to ${PAGE})`, n, Math.round(gas / page.length), (performance.now() - t0) / 1000, gas);
      }
      await record('sealBootstrap', () => reg.sealBootstrap());
      // What a node announces for discovery: one 127.0.0.1 address with its peer id (82 bytes).
      await record('setEndpoint (one address)', () =>
        as(0).setEndpoint('/ip4/127.0.0.1/tcp/4101/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'),
      );
      let batch = 0n;
      await record("submitBatch (the registry's first)", async () => {
        batch = await as(0).submitBatch(
          keccak256(toHex(`gas batch ${n}`)),
          'bafyreigasbenchmarkmanifestcid0000000000000000000000000000',
          1000,
        );
      });
      await record('vote (batch stays open)', () => as(1).vote(batch, true));
      const needed = Math.ceil((n * 6666) / 10_000);
      for (let i = 2; i < needed - 1; i++) await as(i).vote(batch, true);
      await record('vote that accepts the batch', () => as(needed - 1).vote(batch, true));
      let late = 0n;
      await record('submitBatch', async () => {
        late = await as(0).submitBatch(
          keccak256(toHex(`gas batch late ${n}`)),
          'bafyreigasbenchmarkmanifestcid0000000000000000000000000001',
          1000,
        );
      });
      await conn.advanceTime(PERIOD + 1);
      await record('finalize (accepts)', () => as(1).finalize(late));
      let p = 0n;
      await record('proposeMember (add)', async () => {
        p = await as(0).proposeMember(newcomer.address, true);
      });
      await record('voteProposal (stays open)', () => as(1).voteProposal(p, true));
      await conn.advanceTime(PERIOD + 1);
      await record('finalizeProposal adding a member', () => as(1).finalizeProposal(p));
      await record('proposeMember (remove)', async () => {
        p = await as(0).proposeMember(members[n - 1].address, false);
      });
      await conn.advanceTime(PERIOD + 1);
      await record('finalizeProposal removing a member', () => as(1).finalizeProposal(p));
      await record('proposeParameter (voting period)', async () => {
        p = await as(0).proposeParameter('votingPeriod', 2 * PERIOD);
      });
      await conn.advanceTime(PERIOD + 1);
      await record('finalizeProposal changing a parameter', () => as(1).finalizeProposal(p));
    }
  } finally {
    await conn.close();
  }
  // The README's table: one row per operation, one column per size.
  const header = `| operation | ${sizes.map((s) => `${s.toLocaleString('en-US')} members`).join(' | ')} |`;
  console.log(`\nExperienceRegistry gas per transaction\n${header}\n|${' --- |'.repeat(sizes.length + 1)}`);
  for (const [op, bySize] of table)
    console.log(`| ${op} | ${sizes.map((s) => (bySize.get(s) ?? 0).toLocaleString('en-US')).join(' | ')} |`);
  return rows;
}
