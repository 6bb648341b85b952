/**
 * dso batch list | export | import: a node's batches as CAR files, on its
 * data directory (the blockstore at <data-dir>/blocks). They work while the
 * node runs: blocks are content-addressed files written atomically, and the
 * running node serves an imported batch at once (bitswap, /dso/blocks and
 * the gateway). Import verifies the whole CAR before it stores a block.
 */
import path from 'node:path';

import * as dagCbor from '@ipld/dag-cbor';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CID } from 'multiformats/cid';
import { type Hex, isAddress } from 'viem';

import { DsoError } from '../../core/errors.js';
import { decodeEnvelope } from '../../network/batch.js';
import { exportBatchCar, importBatchCar, loadBatchBlocks } from '../../network/car.js';
import { ContentStore } from '../../network/content-store.js';
import { int } from '../options.js';
import { table } from '../output.js';

interface StoreFlags {
  dataDir: string;
}

function address(raw: string): Hex {
  if (!isAddress(raw)) throw new InvalidArgumentError('expected an address (0x and 40 hex digits)');
  return raw;
}

function cid(raw: string): CID {
  try {
    return CID.parse(raw);
  } catch {
    throw new InvalidArgumentError('expected a CID (bafyrei...)');
  }
}

async function withStore<T>(o: StoreFlags, fn: (store: ContentStore) => Promise<T>): Promise<T> {
  const store = await ContentStore.fs(path.join(o.dataDir, 'blocks'));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Every batch the store holds a manifest of, with the CID of its announcement where that is here too. */
async function findBatches(store: ContentStore): Promise<Array<{ manifest: CID; announcement?: CID }>> {
  const manifests = new Map<string, CID>();
  const announcements = new Map<string, CID>();
  for await (const c of store.cids()) {
    const bytes = await store.get(c).catch(() => undefined); // a damaged block is left out here, and reported by export
    if (bytes === undefined) continue;
    try {
      announcements.set(decodeEnvelope(bytes).manifest, c);
      continue;
    } catch {
      // not an announcement
    }
    try {
      const o = dagCbor.decode<{ records?: unknown; root?: unknown }>(bytes);
      if (Array.isArray(o?.records) && o.root instanceof Uint8Array) manifests.set(c.toString(), c);
    } catch {
      // not DAG-CBOR
    }
  }
  return [...manifests.values()].map((m) => {
    const a = announcements.get(m.toString());
    return a ? { manifest: m, announcement: a } : { manifest: m };
  });
}

function storeCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .option('--data-dir <dir>', "the node's data directory (its blockstore is <data-dir>/blocks)", 'dso-data');
}

export function registerBatch(program: Command): void {
  const batch = program.command('batch').description("a node's batches as CAR files (CARv1, readable by any IPFS tool)");
  storeCommand(batch, 'list', 'the batches whose manifest this node holds, with their announcement CID, node and record count')
    .option('--json', 'one JSON object per line')
    .addHelpText('after', '\nExample:\n  $ dso batch list --data-dir dso-data')
    .action((o: StoreFlags & { json?: boolean }) =>
      withStore(o, async (store) => {
        const rows: Array<Record<string, string | number>> = [];
        for (const b of await findBatches(store)) {
          let status = 'complete';
          let node = '';
          let records: number | string = '';
          let created = '';
          try {
            const { manifest } = await loadBatchBlocks(store, b.announcement ?? b.manifest);
            node = manifest.node;
            records = manifest.records.length;
            created = new Date(manifest.timestamp).toISOString();
          } catch (e) {
            status = e instanceof DsoError ? `${e.code}: ${e.message}` : (e as Error).message;
          }
          rows.push({ manifest: b.manifest.toString(), announcement: b.announcement?.toString() ?? '', node, records, created, status });
        }
        if (o.json) {
          for (const r of rows) console.log(JSON.stringify(r));
          return;
        }
        if (rows.length > 0)
          console.log(
            table(
              Object.keys(rows[0]),
              rows.map((r) => Object.values(r)),
            ),
          );
        console.log(`${rows.length} batches in ${path.join(o.dataDir, 'blocks')}`);
      }),
    );
  storeCommand(batch, 'export', "a batch as a CARv1 file: root the manifest, then every record, then the signed announcement if it's here")
    .requiredOption('--batch <cid>', 'the batch: its manifest CID, or its announcement CID (the one the registry records)', cid)
    .option('--out <file>', 'the CAR file to write (atomically; default: <batch cid>.car)')
    .addHelpText('after', '\nExample:\n  $ dso batch export --data-dir dso-data --batch bafyreib... --out batch.car')
    .action((o: StoreFlags & { batch: CID; out?: string }) =>
      withStore(o, async (store) => {
        const out = o.out ?? `${o.batch.toString()}.car`;
        const r = await exportBatchCar(store, o.batch, out);
        console.log(
          `wrote ${out}: ${r.manifest.records.length} records of ${r.manifest.node}, root ${r.manifest.cid.toString()}, ` +
            `${r.blocks} blocks, ${r.bytes} bytes${r.signed ? ', with its signed announcement' : ''}`,
        );
      }),
    );
  storeCommand(batch, 'import', 'verify a batch CAR whole (every block, the manifest, the Merkle root, every record), then store it')
    .argument('<file>', 'a CAR written by dso batch export (or any CARv1 of a batch)')
    .addOption(
      new Option('--chain-id <id>', "also check the announcement's signature (EIP-712) for this chain (with --registry)").argParser(int(1)),
    )
    .addOption(new Option('--registry <address>', 'the ExperienceRegistry the batch was signed for (with --chain-id)').argParser(address))
    .addHelpText(
      'after',
      '\nExamples:\n  $ dso batch import batch.car --data-dir dso-data\n' +
        '  $ dso batch import batch.car --chain-id 31337 --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3',
    )
    .action((file: string, o: StoreFlags & { chainId?: number; registry?: Hex }) => {
      if ((o.chainId === undefined) !== (o.registry === undefined))
        throw new DsoError(
          'INVALID_ARGUMENT',
          'a signature is checked for a chain and a registry: give --chain-id and --registry together',
        );
      const domain = o.chainId !== undefined && o.registry !== undefined ? { chainId: o.chainId, registry: o.registry } : undefined;
      return withStore(o, async (store) => {
        const r = await importBatchCar(store, file, domain === undefined ? {} : { domain });
        const signed = r.signed ? (domain === undefined ? ', announcement fields checked' : ', signature checked') : ', no announcement';
        console.log(
          `imported ${r.manifest.cid.toString()}: ${r.manifest.records.length} records of ${r.manifest.node}, ` +
            `${r.added} new blocks of ${r.blocks}${signed}`,
        );
      });
    });
}
