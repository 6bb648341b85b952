import type { Embedder } from './embedder.js';
import { HashingEmbedder } from './hashing.js';
import { TransformersEmbedder } from './transformers.js';

/** 'hashing' (default) or a local transformers model directory, as config files and flags name them. */
export async function embedderFromSpec(spec: string | undefined): Promise<Embedder> {
  if (spec === undefined || spec === 'hashing') return new HashingEmbedder();
  return TransformersEmbedder.load({ modelPath: spec });
}
