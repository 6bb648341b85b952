/**
 * A client of the OpenAI chat-completions protocol (POST {baseUrl}/chat/completions),
 * which llama.cpp's server, vLLM, Ollama, LM Studio and OpenAI itself speak.
 * Retries, timeouts, the cap on requests in flight and the bound on answers
 * are the shared JsonClient's; the token counts the server reports come back
 * with each answer.
 */
import { wholeNumber } from '../../core/checks.js';
import { DsoError } from '../../core/errors.js';
import { endpointUrl, JsonClient, type JsonClientOptions } from '../../core/json-client.js';
import type { ChatMessage, ChatModel, ChatOptions, ChatResponse } from './chat-model.js';

export interface OpenAICompatibleOptions extends JsonClientOptions {
  /** e.g. http://127.0.0.1:8080/v1 */
  baseUrl: string;
  model: string;
  temperature?: number;
  maxTokens?: number;
}

const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The server's token counts, when it reports both as whole numbers; anything else is no report rather than a wrong sum. */
function usageOf(u: unknown): ChatResponse['usage'] {
  const o = u as { prompt_tokens?: unknown; completion_tokens?: unknown } | null | undefined;
  if (o === null || typeof o !== 'object' || !count(o.prompt_tokens) || !count(o.completion_tokens)) return undefined;
  return { promptTokens: o.prompt_tokens, completionTokens: o.completion_tokens };
}

export class OpenAICompatibleChatModel implements ChatModel {
  readonly name: string;
  private readonly client: JsonClient;
  private readonly temperature: number;
  private readonly maxTokens: number;

  constructor(opts: OpenAICompatibleOptions) {
    if (opts === null || typeof opts !== 'object')
      throw new DsoError('INVALID_ARGUMENT', 'OpenAICompatibleChatModel needs { baseUrl, model }');
    const url = endpointUrl(opts.baseUrl, 'chat/completions');
    if (typeof opts.model !== 'string' || opts.model === '') throw new DsoError('INVALID_ARGUMENT', 'model must be a non-empty string');
    this.name = opts.model;
    this.temperature = opts.temperature ?? 0.7;
    this.maxTokens = wholeNumber(opts.maxTokens ?? 1024, 'maxTokens', 'INVALID_COUNT', 1);
    this.client = new JsonClient(url, opts);
  }

  async chat(messages: readonly ChatMessage[], opts: ChatOptions = {}): Promise<ChatResponse> {
    if (!Array.isArray(messages) || messages.length === 0) throw new DsoError('INVALID_ARGUMENT', 'chat needs at least one message');
    const answer = await this.client.post(
      {
        model: this.name,
        messages,
        temperature: opts.temperature ?? this.temperature,
        max_tokens: opts.maxTokens ?? this.maxTokens,
        stream: false,
      },
      opts.signal,
    );
    const r = answer as { choices?: { message?: { content?: unknown }; finish_reason?: string }[]; usage?: unknown } | null;
    const choice = r !== null && Array.isArray(r.choices) ? r.choices[0] : undefined;
    const content = choice?.message?.content;
    if (typeof content !== 'string')
      throw new DsoError(
        'MODEL_BAD_RESPONSE',
        `${this.client.url} answered no choices[0].message.content: ${JSON.stringify(answer).slice(0, 200)}`,
      );
    return { content, finishReason: choice?.finish_reason, usage: usageOf(r?.usage) };
  }
}
