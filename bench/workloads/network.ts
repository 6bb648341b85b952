/**
 * Network protocol workloads (issue 6):
 *  N1 a batch of 10,000 experience records: encode (DAG-CBOR) + CID + Merkle
 *     tree and every inclusion proof + the EIP-712 signature; then the
 *     receiving side: signature, manifest, root, every record's hash and
 *     decoding, and every proof.
 *  N2 bytes on the wire per shared experience (record + its proof + its share
 *     of the manifest and signature), beside the same experience with a
 *     float32 embedding and beside a FedAvg exchange of a 384-dim model.
 */
import { performance } from 'node:perf_hooks';

import type { CID } from 'multiformats/cid';

import type { CompressedExperience } from '../../src/bitdelta/record.js';
import { encodeCompressed } from '../../src/bitdelta/wire.js';
import { experienceId } from '../../src/experience/content-id.js';
import { createEngine } from '../../src/index.js';
import { buildBatch, openBatch, verifyRecordInclusion } from '../../src/network/batch.js';
import { identityFromKey } from '../../src/network/identity.js';
import { floats } from '../lib/data.js';
import type { Row } from '../lib/report.js';

const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
/** The EIP-712 domain of a registry at a fixed address: nothing here touches a chain. */
const DOMAIN = { chainId: 31337, registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3' } as const;

export async function networkWorkload(n: number): Promise<Row[]> {
  const dim = 384;
  const engine = await createEngine({ backend: 'native' });
  const x = floats(n * dim, 61);
  const { codes, scales } = await engine.quantize(x, { dim });
  await engine.close();
  const records: CompressedExperience[] = Array.from({ length: n }, (_, i) => {
    const text = `When shared lesson number ${i} applies to a problem about topic ${i % 97}, check the units and the sign of the answer first.`;
    return {
      id: experienceId(text, 'math'),
      text,
      code: codes.subarray(i * 48, (i + 1) * 48),
      scales: scales.subarray(i, i + 1),
      dim,
      groupSize: dim,
      confidence: 0.8,
      domain: 'math',
      epoch: 1,
      source: 'x',
      createdAt: 1_800_000_000_000 + i,
    };
  });
  const identity = identityFromKey(KEY);
  const t0 = performance.now();
  const batch = await buildBatch(records, { identity, network: 'dso-bench', ...DOMAIN, timestamp: 1_800_000_000_000 });
  const buildSecs = (performance.now() - t0) / 1000;
  const blocks = new Map<string, Uint8Array>([
    [batch.manifest.cid.toString(), batch.manifest.bytes],
    ...batch.records.map((r) => [r.cid.toString(), r.bytes] as [string, Uint8Array]),
  ]);
  const fetch = async (cid: CID) => blocks.get(cid.toString()) as Uint8Array;
  const t1 = performance.now();
  await openBatch(batch.announcement, fetch, DOMAIN);
  const verifySecs = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  for (const r of batch.records) verifyRecordInclusion(r, batch.announcement.root);
  const proofSecs = (performance.now() - t2) / 1000;

  const recordBytes = batch.records.reduce((s, r) => s + r.bytes.byteLength, 0) / n;
  const proofBytes = batch.records.reduce((s, r) => s + 8 + 32 * r.proof.siblings.length, 0) / n;
  const announcementBytes = Buffer.byteLength(JSON.stringify(batch.announcement));
  const shared = (batch.manifest.bytes.byteLength + announcementBytes) / n;
  const perExperience = recordBytes + proofBytes + shared;
  const float32Record = records.slice(0, 100).reduce((s, r) => s + encodeCompressed(r, new Float32Array(dim)).byteLength, 0) / 100;
  const fedAvg = dim * 4;
  return [
    {
      workload: 'N1 batch build',
      impl: 'encode + CID + Merkle proofs + sign',
      size: `${n} records`,
      seconds: buildSecs,
      throughput: n / buildSecs,
      unit: 'rec/s',
      note: 'target <= 0.5 s',
    },
    {
      workload: 'N1 batch verify',
      impl: 'whole batch: signature, manifest, root, every block hash + decode',
      size: `${n} records`,
      seconds: verifySecs,
      throughput: n / verifySecs,
      unit: 'rec/s',
      note: 'target <= 0.5 s',
    },
    {
      workload: 'N1 batch verify',
      impl: 'every record on its own: hash + inclusion proof',
      size: `${n} records`,
      seconds: proofSecs,
      throughput: n / proofSecs,
      unit: 'rec/s',
      note: 'what a receiver of single records does',
    },
    {
      workload: 'N2 wire bytes',
      impl: 'per shared experience',
      size: `batch of ${n}`,
      seconds: 0,
      throughput: perExperience,
      unit: 'B',
      note:
        `record ${recordBytes.toFixed(0)} + proof ${proofBytes.toFixed(0)} + manifest/signature share ${shared.toFixed(1)}; ` +
        `same record with float32 embedding ${float32Record.toFixed(0)} B (${(float32Record / recordBytes).toFixed(2)}x the record); ` +
        `FedAvg 384-dim model: ${fedAvg} B per node per round`,
    },
  ];
}
