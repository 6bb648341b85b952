/** Shared experience records as a node sends them: 384-dim codes of seeded vectors, a 20-word text each. */
import type { CompressedExperience } from '../../src/bitdelta/record.js';
import { experienceId } from '../../src/experience/content-id.js';
import { createEngine } from '../../src/index.js';
import { floats } from './data.js';

/** The EIP-712 domain of a registry at a fixed address: the benches that build batches touch no chain. */
export const BENCH_DOMAIN = { chainId: 31337, registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3' } as const;

export async function benchRecords(n: number): Promise<CompressedExperience[]> {
  const dim = 384;
  const engine = await createEngine({ backend: 'native' });
  const x = floats(n * dim, 61);
  const { codes, scales } = await engine.quantize(x, { dim });
  await engine.close();
  return Array.from({ length: n }, (_, i) => {
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
}
