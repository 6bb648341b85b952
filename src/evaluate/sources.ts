/**
 * Where a condition of an evaluation gets its experiences: nowhere (the
 * baseline), a library file, or a running node's POST /retrieve. Each answers
 * the k experiences for a problem, as the prompt will show them.
 */
import { DsoError } from '../core/errors.js';
import { JsonClient } from '../core/json-client.js';
import type { ExperienceLibrary } from '../experience/library.js';
import type { PromptExperience } from '../experience/prompt.js';

export interface ExperienceSource {
  retrieve(query: string, k: number): Promise<PromptExperience[]>;
}

/** A library, retrieved as the optimizer does when it learns (no similarity floor), without counting usage. */
export function librarySource(library: ExperienceLibrary): ExperienceSource {
  return {
    retrieve: async (query, k) => (await library.retrieve(query, { k, countUsage: false })).map((r) => r.experience),
  };
}

const MAX_TEXT = 4000;

/** A running dso node's POST /retrieve; its answer is checked before anything of it reaches a prompt. */
export function nodeSource(baseUrl: string, opts: { timeoutMs?: number; retries?: number } = {}): ExperienceSource {
  let url: URL;
  try {
    url = new URL('/retrieve', baseUrl);
  } catch {
    throw new DsoError('INVALID_ARGUMENT', `--node must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DsoError('INVALID_ARGUMENT', `--node must be http or https, got ${url.protocol}`);
  const client = new JsonClient(url.href, { timeoutMs: opts.timeoutMs ?? 30_000, retries: opts.retries ?? 2, maxResponseBytes: 4 << 20 });
  return {
    retrieve: async (query, k) => {
      const answer = (await client.post({ query: query.slice(0, MAX_TEXT), k: Math.min(k, 100) })) as { experiences?: unknown } | null;
      const list = answer?.experiences;
      if (!Array.isArray(list) || list.length > k)
        throw new DsoError('MODEL_BAD_RESPONSE', `${url.href} answered no "experiences" list of at most ${k}`);
      return list.map((raw, i): PromptExperience => {
        const e = raw as Partial<PromptExperience> | null;
        if (
          e === null ||
          typeof e.id !== 'string' ||
          typeof e.text !== 'string' ||
          e.text.length > MAX_TEXT ||
          typeof e.domain !== 'string' ||
          typeof e.confidence !== 'number' ||
          !(e.confidence >= 0 && e.confidence <= 1)
        )
          throw new DsoError('MODEL_BAD_RESPONSE', `${url.href}: experiences[${i}] lacks id, text, domain or a confidence in [0, 1]`);
        return { id: e.id, text: e.text, domain: e.domain, confidence: e.confidence };
      });
    },
  };
}
