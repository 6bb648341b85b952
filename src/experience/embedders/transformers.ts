/**
 * Sentence embeddings from a transformer (all-MiniLM-L6-v2 by default) through
 * @huggingface/transformers and ONNX Runtime: feature extraction, mean pooling
 * over the attention mask, L2 normalisation. Remote downloads are off unless
 * asked for, so a node never fetches weights behind its operator's back: point
 * `modelPath` at a local model directory (config.json, tokenizer files,
 * onnx/model.onnx) or allow downloads into `cacheDir` explicitly.
 */
import path from 'node:path';

import type * as Transformers from '@huggingface/transformers';

import { isArray, wholeNumber } from '../../core/checks.js';
import { DsoError } from '../../core/errors.js';
import type { Embedder } from './embedder.js';

export const DEFAULT_TRANSFORMERS_MODEL = 'Xenova/all-MiniLM-L6-v2';

export interface TransformersEmbedderOptions {
  /** Hub-style model id (default Xenova/all-MiniLM-L6-v2), looked up under `localModelPath`. */
  model?: string;
  /** A model directory; overrides `model` and `localModelPath`. */
  modelPath?: string;
  /** Folder that holds `<model>/` directories. */
  localModelPath?: string;
  /** Download from the Hugging Face hub when the model is not local (default false). */
  allowRemoteModels?: boolean;
  cacheDir?: string;
  /** Weights variant: 'fp32' (onnx/model.onnx, default), 'q8' (model_quantized.onnx), ... */
  dtype?: 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'bnb4' | 'q4f16';
  /** Texts per ONNX Runtime call (default 32). */
  batchSize?: number;
}

interface FeatureTensor {
  dims: number[];
  data: Float32Array;
}
type FeatureExtractor = ((texts: string[], o: { pooling: 'mean'; normalize: boolean }) => Promise<FeatureTensor>) & {
  dispose(): Promise<void>;
};

// transformers.js reads its settings from one global `env`: loads are serialised so
// two embedders with different model folders cannot see each other's settings.
let loading: Promise<unknown> = Promise.resolve();

export class TransformersEmbedder implements Embedder {
  readonly id: string;
  readonly dim: number;
  /** Sentence embedding models put unrelated sentences at 0-0.2 and related ones well above. */
  readonly minSimilarity = 0.2;
  private readonly extractor: FeatureExtractor;
  private readonly batchSize: number;

  private constructor(id: string, dim: number, extractor: FeatureExtractor, batchSize: number) {
    this.id = id;
    this.dim = dim;
    this.extractor = extractor;
    this.batchSize = batchSize;
  }

  static async load(opts: TransformersEmbedderOptions = {}): Promise<TransformersEmbedder> {
    const batchSize = wholeNumber(opts.batchSize ?? 32, 'batchSize', 'INVALID_COUNT', 1, 4096);
    const dtype = opts.dtype ?? 'fp32';
    const model = opts.modelPath !== undefined ? path.basename(path.resolve(opts.modelPath)) : (opts.model ?? DEFAULT_TRANSFORMERS_MODEL);
    const localRoot = opts.modelPath !== undefined ? path.dirname(path.resolve(opts.modelPath)) : opts.localModelPath;
    const run = loading.then(async () => {
      let tf: typeof Transformers;
      try {
        tf = await import('@huggingface/transformers');
      } catch (e) {
        throw new DsoError('EMBEDDER_UNAVAILABLE', `@huggingface/transformers could not be loaded: ${(e as Error).message}`, { cause: e });
      }
      tf.env.allowRemoteModels = opts.allowRemoteModels === true;
      tf.env.allowLocalModels = true;
      if (localRoot !== undefined) tf.env.localModelPath = localRoot.endsWith(path.sep) ? localRoot : localRoot + path.sep;
      if (opts.cacheDir !== undefined) tf.env.cacheDir = opts.cacheDir;
      try {
        return await tf.pipeline('feature-extraction', model, {
          dtype,
          device: 'cpu',
          local_files_only: opts.allowRemoteModels !== true,
        });
      } catch (e) {
        const where = localRoot !== undefined ? ` in ${localRoot}` : '';
        const hint = opts.allowRemoteModels === true ? '' : ' (remote downloads are off: pass modelPath, or allowRemoteModels: true)';
        throw new DsoError('EMBEDDER_UNAVAILABLE', `model ${model} could not be loaded${where}${hint}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    });
    loading = run.catch(() => undefined);
    const extractor = await run;
    const probe = await extractor(['dimension probe'], { pooling: 'mean', normalize: true });
    const dim = probe.dims[probe.dims.length - 1];
    return new TransformersEmbedder(`transformers:${model}:${dtype}:${dim}`, dim, extractor, batchSize);
  }

  async embed(texts: readonly string[]): Promise<Float32Array> {
    if (!isArray(texts)) throw new DsoError('INVALID_ARGUMENT', 'embed() takes an array of strings');
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw new DsoError('INVALID_ARGUMENT', `texts[${i}] must be a string, got ${typeof t}`);
    });
    const out = new Float32Array(texts.length * this.dim);
    for (let s = 0; s < texts.length; s += this.batchSize) {
      const part = texts.slice(s, s + this.batchSize);
      const r = await this.extractor(part, { pooling: 'mean', normalize: true });
      out.set(r.data.subarray(0, part.length * this.dim), s * this.dim);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.extractor.dispose();
  }
}
