/**
 * Sentence embeddings from a model server over the OpenAI embeddings protocol
 * (POST {baseUrl}/embeddings), as llama.cpp's server (--embeddings), vLLM,
 * Ollama and OpenAI serve it. Texts go in batches; retries, timeouts and the
 * cap on requests in flight are the shared JsonClient's. Every answer is
 * checked: one finite vector per text, in the order sent, of the dimension
 * the embedder was opened with (probed from the server when not given). The
 * id names the model and dimension, so a library built with one server model
 * refuses to open with another.
 */
import { isArray, wholeNumber } from '../../core/checks.js';
import { DsoError } from '../../core/errors.js';
import { endpointUrl, JsonClient, type JsonClientOptions } from '../../core/json-client.js';
import { normalizeRows } from '../vectors.js';
import type { Embedder } from './embedder.js';

export interface OpenAIEmbedderOptions extends JsonClientOptions {
  /** e.g. http://127.0.0.1:8080/v1 */
  baseUrl: string;
  model: string;
  /** The dimension the server's vectors must have; default: asked of the server with one probe. */
  dim?: number;
  /** Texts per request (default 64). */
  batchSize?: number;
}

const MAX_DIM = 1 << 16;

export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  /** Sentence embedding models put unrelated sentences at 0-0.2 and related ones well above. */
  readonly minSimilarity = 0.2;

  private constructor(
    readonly dim: number,
    readonly model: string,
    private readonly client: JsonClient,
    private readonly batchSize: number,
  ) {
    this.id = `openai:${model}:${dim}`;
  }

  static async open(opts: OpenAIEmbedderOptions): Promise<OpenAIEmbedder> {
    if (opts === null || typeof opts !== 'object') throw new DsoError('INVALID_ARGUMENT', 'OpenAIEmbedder needs { baseUrl, model }');
    const client = new JsonClient(endpointUrl(opts.baseUrl, 'embeddings'), opts);
    if (typeof opts.model !== 'string' || opts.model === '') throw new DsoError('INVALID_ARGUMENT', 'model must be a non-empty string');
    const batchSize = wholeNumber(opts.batchSize ?? 64, 'batchSize', 'INVALID_COUNT', 1, 4096);
    let dim = opts.dim === undefined ? undefined : wholeNumber(opts.dim, 'dim', 'INVALID_DIM', 1, MAX_DIM);
    if (dim === undefined) {
      const probe = await OpenAIEmbedder.request(client, opts.model, ['dimension probe']);
      dim = probe[0].length;
      if (dim < 1 || dim > MAX_DIM) throw new DsoError('MODEL_BAD_RESPONSE', `${client.url} answered a vector of ${dim} values`);
    }
    return new OpenAIEmbedder(dim, opts.model, client, batchSize);
  }

  private static async request(client: JsonClient, model: string, input: string[]): Promise<number[][]> {
    const answer = (await client.post({ model, input, encoding_format: 'float' })) as { data?: unknown } | null;
    const bad = (why: string) => new DsoError('MODEL_BAD_RESPONSE', `${client.url}: ${why}`);
    const data = answer?.data;
    if (!isArray(data) || data.length !== input.length) throw bad(`expected data with ${input.length} embeddings`);
    const out = new Array<number[]>(input.length);
    data.forEach((d, i) => {
      const item = d as { embedding?: unknown; index?: unknown } | null;
      const at = item?.index === undefined ? i : item.index;
      if (typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at >= input.length || out[at] !== undefined)
        throw bad(`data[${i}].index ${JSON.stringify(at)} is not a fresh position in the batch`);
      const v = item?.embedding;
      if (!isArray(v) || v.length > MAX_DIM || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
        throw bad(`data[${i}].embedding is not a list of finite numbers`);
      out[at] = v as number[];
    });
    return out;
  }

  async embed(texts: readonly string[]): Promise<Float32Array> {
    if (!isArray(texts)) throw new DsoError('INVALID_ARGUMENT', 'embed() takes an array of strings');
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw new DsoError('INVALID_ARGUMENT', `texts[${i}] must be a string, got ${typeof t}`);
    });
    const out = new Float32Array(texts.length * this.dim);
    // Servers refuse empty input; a text with nothing in it is a zero row, as the Embedder contract says.
    const rows = texts.map((t, i) => i).filter((i) => texts[i].trim() !== '');
    const batches: number[][] = [];
    for (let s = 0; s < rows.length; s += this.batchSize) batches.push(rows.slice(s, s + this.batchSize));
    await Promise.all(
      batches.map(async (batch) => {
        const vectors = await OpenAIEmbedder.request(
          this.client,
          this.model,
          batch.map((i) => texts[i]),
        );
        vectors.forEach((v, j) => {
          if (v.length !== this.dim)
            throw new DsoError('DIM_MISMATCH', `${this.client.url} answered a vector of ${v.length} values, expected ${this.dim}`);
          out.set(v, batch[j] * this.dim);
        });
      }),
    );
    return normalizeRows(out, this.dim);
  }
}
