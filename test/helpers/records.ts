/** Seeded experience records for the network tests: 384-dim codes from gaussian vectors, one distinct text each. */
import type { CompressedExperience } from '../../src/bitdelta/record.js';
import { experienceId } from '../../src/experience/content-id.js';
import { packReference } from '../../src/index.js';
import { gaussian } from './random.js';

/** An EIP-712 domain for batches: a chain and a registry's address (nothing at that address need run). */
export const SAMPLE_DOMAIN = { chainId: 31337, registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3' } as const;

export function sampleRecords(n: number, seed = 1): CompressedExperience[] {
  return Array.from({ length: n }, (_, i) => {
    const { codes, scales } = packReference(gaussian(384, seed * 1000 + i), {
      rows: 1,
      dim: 384,
      groupSize: 384,
      groups: 1,
      bytesPerRow: 48,
    });
    const text = `When sharing lesson ${seed}-${i}, check it twice.`;
    return {
      id: experienceId(text, 'math'),
      text,
      code: codes,
      scales,
      dim: 384,
      groupSize: 384,
      confidence: 0.8,
      domain: 'math',
      epoch: 3,
      source: 'local',
      createdAt: 1_700_000_000_000 + i,
    };
  });
}
