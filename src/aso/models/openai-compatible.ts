/**
 * A client of the OpenAI chat-completions protocol (POST {baseUrl}/chat/completions),
 * which llama.cpp's server, vLLM, Ollama, LM Studio and OpenAI itself speak.
 * Transient failures (429, 408, 5xx, connection errors, timeouts) are retried
 * with exponential backoff and jitter, honouring Retry-After; anything else
 * fails at once with a typed error. A limiter caps requests in flight, so a
 * group of rollouts cannot overrun a local server.
 */
import { wholeNumber } from '../../core/checks.js';
import { DsoError } from '../../core/errors.js';
import type { ChatMessage, ChatModel, ChatOptions, ChatResponse } from './chat-model.js';
import { Limiter } from './limiter.js';

export interface OpenAICompatibleOptions {
  /** e.g. http://127.0.0.1:8080/v1 */
  baseUrl: string;
  model: string;
  /** Bearer token; default: the environment variable named by apiKeyEnv. */
  apiKey?: string;
  /** Default 'OPENAI_API_KEY'. */
  apiKeyEnv?: string;
  temperature?: number;
  maxTokens?: number;
  /** Per attempt (default 120 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff (default 500 ms), doubled per retry up to maxBackoffMs (default 10 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
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

export class OpenAICompatibleChatModel implements ChatModel {
  readonly name: string;
  private readonly url: string;
  private readonly apiKey?: string;
  private readonly temperature: number;
  private readonly maxTokens: number;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly limiter: Limiter;

  constructor(opts: OpenAICompatibleOptions) {
    if (opts === null || typeof opts !== 'object')
      throw new DsoError('INVALID_ARGUMENT', 'OpenAICompatibleChatModel needs { baseUrl, model }');
    let base: URL;
    try {
      base = new URL(opts.baseUrl);
    } catch {
      throw new DsoError('INVALID_ARGUMENT', `baseUrl must be an http(s) URL, got ${JSON.stringify(opts.baseUrl)}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new DsoError('INVALID_ARGUMENT', `baseUrl must be http or https, got ${base.protocol}`);
    if (typeof opts.model !== 'string' || opts.model === '') throw new DsoError('INVALID_ARGUMENT', 'model must be a non-empty string');
    this.name = opts.model;
    this.url = `${base.href.replace(/\/+$/u, '')}/chat/completions`;
    this.apiKey = opts.apiKey ?? process.env[opts.apiKeyEnv ?? 'OPENAI_API_KEY'];
    this.temperature = opts.temperature ?? 0.7;
    this.maxTokens = wholeNumber(opts.maxTokens ?? 1024, 'maxTokens', 'INVALID_COUNT', 1);
    this.timeoutMs = wholeNumber(opts.timeoutMs ?? 120_000, 'timeoutMs', 'INVALID_COUNT', 1);
    this.retries = wholeNumber(opts.retries ?? 3, 'retries', 'INVALID_COUNT', 0, 100);
    this.backoffMs = wholeNumber(opts.backoffMs ?? 500, 'backoffMs', 'INVALID_COUNT', 0);
    this.maxBackoffMs = wholeNumber(opts.maxBackoffMs ?? 10_000, 'maxBackoffMs', 'INVALID_COUNT', 0);
    this.limiter = new Limiter(wholeNumber(opts.concurrency ?? 4, 'concurrency', 'INVALID_COUNT', 1));
  }

  async chat(messages: readonly ChatMessage[], opts: ChatOptions = {}): Promise<ChatResponse> {
    if (!Array.isArray(messages) || messages.length === 0) throw new DsoError('INVALID_ARGUMENT', 'chat needs at least one message');
    const body = JSON.stringify({
      model: this.name,
      messages,
      temperature: opts.temperature ?? this.temperature,
      max_tokens: opts.maxTokens ?? this.maxTokens,
      stream: false,
    });
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.limiter.run(() => this.attempt(body, opts.signal));
      } catch (e) {
        if (!(e instanceof Retryable)) throw e;
        if (attempt >= this.retries || opts.signal?.aborted === true) {
          throw new DsoError(e.error.code, `${e.error.message} (after ${attempt + 1} attempts)`, { cause: e.error.cause });
        }
        const backoff = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt);
        await sleep(Math.max(e.retryAfterMs ?? 0, backoff * (0.5 + Math.random() / 2)));
      }
    }
  }

  private async attempt(body: string, signal?: AbortSignal): Promise<ChatResponse> {
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
      text = await res.text();
    } catch (e) {
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
    return this.parse(text);
  }

  private parse(text: string): ChatResponse {
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch {
      throw new DsoError('MODEL_BAD_RESPONSE', `${this.url} did not answer JSON: ${text.slice(0, 200)}`);
    }
    const r = j as {
      choices?: { message?: { content?: unknown }; finish_reason?: string }[];
      usage?: { prompt_tokens?: number; completion_tokens?: number };
    };
    const choice = Array.isArray(r.choices) ? r.choices[0] : undefined;
    const content = choice?.message?.content;
    if (typeof content !== 'string')
      throw new DsoError('MODEL_BAD_RESPONSE', `${this.url} answered no choices[0].message.content: ${text.slice(0, 200)}`);
    return {
      content,
      finishReason: choice?.finish_reason,
      usage: r.usage ? { promptTokens: r.usage.prompt_tokens ?? 0, completionTokens: r.usage.completion_tokens ?? 0 } : undefined,
    };
  }
}
