/**
 * The shape of an experience sentence. Experiences are injected verbatim into
 * prompts and shared with other nodes, so they are held to one short sentence
 * of the form "When <situation>, <advice>": long or multi-sentence text costs
 * prompt tokens on every call and is how a node smuggles instructions.
 */
import { MAX_DOMAIN_BYTES, MAX_TEXT_BYTES } from '../bitdelta/record.js';
import { DsoError } from '../core/errors.js';
import { isWellFormedText } from './content-id.js';

export const MAX_EXPERIENCE_WORDS = 32;
export const MAX_EXPERIENCE_BYTES = MAX_TEXT_BYTES;
/** Raw text longer than this (UTF-16 units) is refused before whitespace is collapsed: no regex runs over megabytes. */
const MAX_RAW_LENGTH = 8 * MAX_EXPERIENCE_BYTES;

/** Whether `domain` is a domain every path accepts: a non-empty, well-formed string of at most MAX_DOMAIN_BYTES. */
export function isDomain(domain: unknown): domain is string {
  return typeof domain === 'string' && domain !== '' && Buffer.byteLength(domain, 'utf8') <= MAX_DOMAIN_BYTES && isWellFormedText(domain);
}

/** Collapses runs of whitespace and trims, so formatting never changes an experience's content id. */
export function normalizeText(text: string): string {
  return text.replace(/\s+/gu, ' ').trim();
}

/** Words of an already normalised text: one more than its spaces. */
function wordsOf(t: string): number {
  let n = t === '' ? 0 : 1;
  for (let i = t.indexOf(' '); i >= 0; i = t.indexOf(' ', i + 1)) n++;
  return n;
}

/** Returns the normalized sentence, or throws INVALID_EXPERIENCE saying which rule it breaks. */
export function checkExperienceText(text: unknown): string {
  if (typeof text !== 'string') throw new DsoError('INVALID_EXPERIENCE', `experience text must be a string, got ${typeof text}`);
  if (text.length > MAX_RAW_LENGTH)
    throw new DsoError(
      'INVALID_EXPERIENCE',
      `experience text has ${text.length} characters, at most ${MAX_EXPERIENCE_BYTES} bytes allowed`,
    );
  // UTF-8 has no encoding for a lone surrogate: it would be stored and hashed as U+FFFD, so two texts would share an id.
  if (!isWellFormedText(text)) throw new DsoError('INVALID_EXPERIENCE', 'experience text holds a lone UTF-16 surrogate');
  const t = normalizeText(text);
  const fail = (why: string) => new DsoError('INVALID_EXPERIENCE', `${why}: "${t.length > 120 ? `${t.slice(0, 117)}...` : t}"`);
  if (t === '') throw new DsoError('INVALID_EXPERIENCE', 'experience text is empty');
  const bytes = Buffer.byteLength(t, 'utf8');
  if (bytes > MAX_EXPERIENCE_BYTES) throw fail(`experience has ${bytes} bytes, at most ${MAX_EXPERIENCE_BYTES} allowed`);
  const words = wordsOf(t);
  if (words > MAX_EXPERIENCE_WORDS) throw fail(`experience has ${words} words, at most ${MAX_EXPERIENCE_WORDS} allowed`);
  if (!/^when\s/iu.test(t)) throw fail('experience must have the form "When ..., ..."');
  const comma = t.indexOf(',');
  if (comma < 0 || comma === t.length - 1 || t.slice(comma + 1).trim() === '')
    throw fail('experience must have the form "When ..., ..." (a comma, then the advice)');
  // One sentence: a terminator may only end the text (decimals like 0.5 are not terminators).
  if (/[.!?](?=\s+\S)/u.test(t)) throw fail('experience must be one sentence');
  return t;
}

/** Whether the text passes checkExperienceText. */
export function isExperienceText(text: unknown): boolean {
  try {
    checkExperienceText(text);
    return true;
  } catch {
    return false;
  }
}
