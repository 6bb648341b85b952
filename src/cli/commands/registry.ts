/**
 * dso registry deploy | status | members | add-member | remove-member |
 * propose | vote | finalize: an ExperienceRegistry on any JSON-RPC chain,
 * acting as the account of a node key file. Tables for people, --json for
 * scripts.
 */
import { Argument, type Command, InvalidArgumentError, Option } from 'commander';
import { getAddress, type Hex, isAddress } from 'viem';

import type { ParameterName } from '../../network/registry.js';
import { int, list } from '../options.js';
import { table } from '../output.js';
import * as act from '../registry/actions.js';
import type { RegistryFlags } from '../registry/session.js';

function address(raw: string): Hex {
  if (!isAddress(raw, { strict: false })) throw new InvalidArgumentError('expected an account address (0x and 40 hex digits)');
  return getAddress(raw);
}

function id(raw: string): bigint {
  if (!/^\d{1,30}$/u.test(raw)) throw new InvalidArgumentError('expected an id (a whole number)');
  return BigInt(raw);
}

const PARAMETERS: readonly ParameterName[] = ['quorumBps', 'approvalBps', 'votingPeriod'];

const RPC = '--rpc-url http://127.0.0.1:8545';
const REG = '--registry 0x5FbDB2315678afecb367f032d93F642f64180aa3';

/** The flags every command takes; --key where it sends a transaction (required) or reads (optional). */
function registryCommand(parent: Command, name: string, description: string, key: 'required' | 'optional', withRegistry = true): Command {
  const cmd = parent
    .command(name)
    .description(description)
    .addOption(new Option('--rpc-url <url>', "the chain's JSON-RPC endpoint").env('DSO_RPC_URL').makeOptionMandatory());
  if (withRegistry)
    cmd.addOption(
      new Option('--registry <address>', "the ExperienceRegistry's address")
        .argParser(address)
        .env('DSO_REGISTRY_ADDRESS')
        .makeOptionMandatory(),
    );
  cmd.option(
    '--key <file>',
    key === 'required'
      ? 'the sending account: a node key file (<data-dir>/node.key of dso node), required'
      : 'a node key file: also show its account, membership and balance',
  );
  return cmd.option('--json', 'print JSON instead of a table');
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  console.log(json ? JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) : text());
}

function outcome(o: { json?: boolean }, r: act.Outcome): void {
  print(o.json, r, () => {
    if ('added' in r) return `added ${r.added} (the owner adds directly until the bootstrap is sealed)`;
    const p = r.proposal;
    const what = p.kind === 'addMember' || p.kind === 'removeMember' ? `${p.kind} ${p.account}` : `${p.kind} = ${p.value}`;
    return table(
      ['proposal', 'change', 'status', 'yes', 'no', 'quorum', 'electorate', 'deadline'],
      [[p.id, what, p.status, p.yes, p.no, p.quorum, p.electorate, new Date(p.deadline * 1000).toISOString()]],
    );
  });
}

export function registerRegistry(program: Command): void {
  const registry = program
    .command('registry')
    .description('an ExperienceRegistry on any JSON-RPC chain: deploy it, read it, govern its membership as the owner or a member');

  registryCommand(registry, 'deploy', 'deploy a new registry; the --key account becomes its owner', 'required', false)
    .addOption(new Option('--members <list>', 'initial member accounts, comma-separated').argParser(list(address)).default([]))
    .addOption(new Option('--quorum-bps <n>', 'share of members that must vote, basis points (default 5000)').argParser(int(1, 10_000)))
    .addOption(
      new Option('--approval-bps <n>', 'share of votes that must approve, basis points (default 6666)').argParser(int(5001, 10_000)),
    )
    .addOption(new Option('--voting-period <s>', 'seconds a batch or proposal stays open (default 3600)').argParser(int(60, 365 * 86_400)))
    .option('--seal', 'seal the bootstrap: the owner can no longer add members; they govern themselves')
    .addHelpText('after', `\nExample:\n  $ dso registry deploy ${RPC} --key owner.key --members 0xAbc...,0xDef... --seal`)
    .action(async (o: act.DeployFlags) => {
      const r = await act.deploy(o);
      print(
        o.json,
        r,
        () => `registry ${r.registry} deployed by ${r.owner}: ${r.members} members, bootstrap ${r.sealed ? 'sealed' : 'open'}`,
      );
    });

  registryCommand(registry, 'status', 'owner, parameters, members, batches and proposals (and your account with --key)', 'optional')
    .addHelpText('after', `\nExample:\n  $ dso registry status ${RPC} ${REG} --key dso-data/node.key`)
    .action(async (o: RegistryFlags) => {
      const s = await act.status(o);
      print(o.json, s, () => {
        const rows: Array<[string, string | number]> = [
          ['registry', s.address],
          ['chain', `${s.chainId}, block ${s.head.number}`],
          ['owner', s.owner],
          ['bootstrap', s.bootstrapSealed ? 'sealed' : 'open (the owner adds members)'],
          ['members', s.memberCount],
          ['quorum', `${s.quorumBps} bps`],
          ['approval', `${s.approvalBps} bps`],
          ['voting period', `${s.votingPeriod} s`],
          ['batches', `${s.batchCount} (${s.acceptedCount} accepted)`],
          ['proposals', `${s.proposalCount} (${s.pendingRemovals} open removals)`],
        ];
        if (s.you) rows.push(['you', `${s.you.account}: ${s.you.member ? 'member' : 'not a member'}, ${s.you.balance} ether`]);
        return table(['', ''], rows);
      });
    });

  registryCommand(registry, 'members', 'every current member and the p2p endpoint it announced', 'optional')
    .addHelpText('after', `\nExample:\n  $ dso registry members ${RPC} ${REG}`)
    .action(async (o: RegistryFlags) => {
      const rows = await act.members(o);
      print(
        o.json,
        rows,
        () =>
          `${table(
            ['account', 'endpoint'],
            rows.map((r) => [r.account, r.endpoint || '-']),
          )}\n${rows.length} members`,
      );
    });

  registryCommand(
    registry,
    'add-member',
    'add a member: directly as the owner of an unsealed registry, else as a proposal of yours (a member)',
    'required',
  )
    .argument('<account>', 'the account to add (0x...)', address)
    .addHelpText('after', `\nExample:\n  $ dso registry add-member 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 ${RPC} ${REG} --key node.key`)
    .action(async (account: Hex, o: RegistryFlags) => outcome(o, await act.addMember({ ...o, account })));

  registryCommand(registry, 'remove-member', 'propose removing a member (members vote; the proposal is your yes)', 'required')
    .argument('<account>', 'the member to remove (0x...)', address)
    .addHelpText(
      'after',
      `\nExample:\n  $ dso registry remove-member 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 ${RPC} ${REG} --key node.key`,
    )
    .action(async (account: Hex, o: RegistryFlags) => outcome(o, await act.removeMember({ ...o, account })));

  registryCommand(registry, 'propose', 'propose a new value for a parameter (members vote; the proposal is your yes)', 'required')
    .addArgument(new Argument('<parameter>', 'the parameter to change').choices(PARAMETERS))
    .argument('<value>', 'its new value (basis points, or seconds for votingPeriod)', int(1, 365 * 86_400))
    .addHelpText('after', `\nExample:\n  $ dso registry propose votingPeriod 600 ${RPC} ${REG} --key node.key`)
    .action(async (parameter: ParameterName, value: number, o: RegistryFlags) => outcome(o, await act.propose({ ...o, parameter, value })));

  registryCommand(registry, 'vote', 'vote yes or no on a proposal (or a batch, with --batch)', 'required')
    .argument('<id>', 'the proposal (or batch) id', id)
    .addArgument(new Argument('<vote>', 'approve or not').choices(['yes', 'no']))
    .option('--batch', 'the id is a batch, not a proposal')
    .addHelpText('after', `\nExample:\n  $ dso registry vote 3 yes ${RPC} ${REG} --key node.key`)
    .action(async (n: bigint, choice: string, o: RegistryFlags & { batch?: boolean }) => {
      const r = await act.vote({ ...o, id: n, approve: choice === 'yes', batch: o.batch });
      print(o.json, r, () => `${o.batch ? 'batch' : 'proposal'} ${r.id}: voted ${choice}, now ${r.status}`);
    });

  registryCommand(registry, 'finalize', 'decide batches (or proposals, with --proposal) past their deadline; anyone may', 'required')
    .argument('<ids...>', 'batch (or proposal) ids', (raw: string, prev: bigint[] | undefined) => [...(prev ?? []), id(raw)])
    .option('--proposal', 'the ids are proposals, not batches')
    .addHelpText('after', `\nExample:\n  $ dso registry finalize 0 1 ${RPC} ${REG} --key node.key`)
    .action(async (ids: bigint[], o: RegistryFlags & { proposal?: boolean }) => {
      const r = await act.finalize({ ...o, ids, proposal: o.proposal });
      print(o.json, r, () =>
        table(
          [o.proposal ? 'proposal' : 'batch', 'status'],
          r.map((x) => [x.id, x.status]),
        ),
      );
    });
}
