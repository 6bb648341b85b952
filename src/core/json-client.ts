/**
 * POSTs JSON to an OpenAI-compatible server (chat completions, embeddings)
 * and reads its JSON answer: the transport the model clients share.
 * Transient failures (429, 408, 5xx, connection errors, timeouts) are retried
 * with exponential backoff and jitter, honouring Retry-After; anything else
 * fails at once with a typed error. A limiter caps requests in flight, and an
 * answer larger than maxResponseBytes is refused while it is read.
 */
import { wholeNumber } from './checks.js';
import { DsoError } from './errors.js';
import { Limiter } from './limiter.js';

export interface JsonClientOptions {
  /** Bearer token; default: the environment variable named by apiKeyEnv. */
  apiKey?: string;
  /** Default 'OPENAI_API_KEY'. */
  apiKeyEnv?: string;
  /** Per attempt (default 120 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff (default 500 ms), doubled per retry up to maxBackoffMs (default 10 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Largest answer read (default 64 MiB). */
  maxResponseBytes?: number;
}

class Retryable extends Error {
  constructor(
    readonly error: DsoError,
    readonly retryAfterMs?: number,
  ) {
    super(error.message);
  }
}

function retryAfter(h: string | null): number | undefined {
  if (h === null) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `{baseUrl}/{endpoint}`, after checking that baseUrl is an http(s) URL. */
export function endpointUrl(baseUrl: unknown, endpoint: string): string {
  let base: URL;
  try {
    base = new URL(baseUrl as string);
  } catch {
    throw new DsoError('INVALID_ARGUMENT', `baseUrl must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new DsoError('INVALID_ARGUMENT', `baseUrl must be http or https, got ${base.protocol}`);
  return `${base.href.replace(/\/+$/u, '')}/${endpoint}`;
}

async function readBounded(res: Response, max: number, url: string): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max)
    throw new DsoError('MODEL_BAD_RESPONSE', `${url} answered ${declared} bytes, over ${max}`);
  if (res.body === null) return '';
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > max) throw new DsoError('MODEL_BAD_RESPONSE', `${url} answered more than ${max} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

export class JsonClient {
  private readonly apiKey?: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxResponseBytes: number;
  private readonly limiter: Limiter;

  constructor(
    readonly url: string,
    opts: JsonClientOptions = {},
  ) {
    this.apiKey = opts.apiKey ?? process.env[opts.apiKeyEnv ?? 'OPENAI_API_KEY'];
    this.timeoutMs = wholeNumber(opts.timeoutMs ?? 120_000, 'timeoutMs', 'INVALID_COUNT', 1);
    this.retries = wholeNumber(opts.retries ?? 3, 'retries', 'INVALID_COUNT', 0, 100);
    this.backoffMs = wholeNumber(opts.backoffMs ?? 500, 'backoffMs', 'INVALID_COUNT', 0);
    this.maxBackoffMs = wholeNumber(opts.maxBackoffMs ?? 10_000, 'maxBackoffMs', 'INVALID_COUNT', 0);
    this.maxResponseBytes = wholeNumber(opts.maxResponseBytes ?? 64 << 20, 'maxResponseBytes', 'INVALID_COUNT', 1);
    this.limiter = new Limiter(wholeNumber(opts.concurrency ?? 4, 'concurrency', 'INVALID_COUNT', 1));
  }

  /** The parsed JSON answer to POSTing `body`. */
  async post(body: unknown, signal?: AbortSignal): Promise<unknown> {
    const text = JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.limiter.run(() => this.attempt(text, signal));
      } catch (e) {
        if (!(e instanceof Retryable)) throw e;
        if (attempt >= this.retries || signal?.aborted === true) {
          throw new DsoError(e.error.code, `${e.error.message} (after ${attempt + 1} attempts)`, { cause: e.error.cause });
        }
        const backoff = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt);
        await sleep(Math.max(e.retryAfterMs ?? 0, backoff * (0.5 + Math.random() / 2)));
      }
    }
  }

  private async attempt(body: string, signal?: AbortSignal): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
        },
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await readBounded(res, this.maxResponseBytes, this.url);
    } catch (e) {
      if (e instanceof DsoError) throw e;
      if (signal?.aborted === true) throw new DsoError('MODEL_ERROR', `request to ${this.url} was aborted`, { cause: e });
      if (timeout.aborted)
        throw new Retryable(new DsoError('MODEL_TIMEOUT', `no answer from ${this.url} within ${this.timeoutMs} ms`, { cause: e }));
      const cause = (e as { cause?: { code?: string } }).cause;
      throw new Retryable(new DsoError('MODEL_ERROR', `cannot reach ${this.url}: ${cause?.code ?? (e as Error).message}`, { cause: e }));
    }
    if (!res.ok) {
      const err = new DsoError('MODEL_ERROR', `${this.url} answered ${res.status}: ${text.slice(0, 300)}`);
      if (res.status === 429 || res.status === 408 || res.status >= 500)
        throw new Retryable(err, retryAfter(res.headers.get('retry-after')));
      throw err;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new DsoError('MODEL_BAD_RESPONSE', `${this.url} did not answer JSON: ${text.slice(0, 200)}`);
    }
  }
}
