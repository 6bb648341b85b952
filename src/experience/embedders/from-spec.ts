import { DsoError } from '../../core/errors.js';
import type { Embedder } from './embedder.js';
import { HashingEmbedder } from './hashing.js';
import { OpenAIEmbedder, type OpenAIEmbedderOptions } from './openai.js';
import { TransformersEmbedder } from './transformers.js';

/**
 * An embedder as config files and flags name it: 'hashing' (default), a local
 * transformers model directory, or a table { kind = "openai", baseUrl, model }
 * (also { kind = "hashing" } and { kind = "transformers", path }).
 */
export type EmbedderSpec =
  string | { kind: 'hashing' } | { kind: 'transformers'; path: string } | ({ kind: 'openai' } & OpenAIEmbedderOptions);

export async function embedderFromSpec(spec: EmbedderSpec | undefined): Promise<Embedder> {
  if (spec === undefined || spec === 'hashing') return new HashingEmbedder();
  if (typeof spec === 'string') return TransformersEmbedder.load({ modelPath: spec });
  switch (spec.kind) {
    case 'hashing':
      return new HashingEmbedder();
    case 'transformers':
      return TransformersEmbedder.load({ modelPath: spec.path });
    case 'openai': {
      const { kind: _kind, ...opts } = spec;
      return OpenAIEmbedder.open(opts);
    }
    default:
      throw new DsoError('INVALID_ARGUMENT', `unknown embedder kind ${JSON.stringify((spec as { kind?: unknown }).kind)}`);
  }
}
