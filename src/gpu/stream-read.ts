/**
 * The GPU's streaming-read limit (stream-read.wgsl): the honest bandwidth
 * figure for WGSL kernels. The benchmark states kernel throughput against it.
 */
import { into } from './buffers.js';
import { bindGroup, dispatch, type Gpu, readResults, streamWorkgroups } from './gpu.js';
import { defineParams } from './params.js';

/** vectors: vec4<u32> elements to read. */
const PARAMS = defineParams({ vectors: 'u32' });

export interface StreamRead {
  /** Bytes one read covers (whole vec4<u32> elements of `buffer`). */
  bytes: number;
  /** Records one full read into `enc`; recording it again repeats it. */
  encode: (enc: GPUCommandEncoder) => void;
  /** Submits the read and returns the XOR of every u32 word read (result zeroed first). */
  checksum(): Promise<number>;
  release(): void;
}

/** A read over `buffer`'s first `bytes` (rounded down to 16). */
export function prepareStreamRead(gpu: Gpu, buffer: GPUBuffer, bytes: number): StreamRead {
  const vectors = Math.floor(bytes / 16);
  const pipeline = gpu.pipelines.get('stream-read', PARAMS, 'streamRead');
  const u = gpu.pool.uniform(PARAMS.encode({ vectors }));
  const result = gpu.pool.storage(4);
  const group = bindGroup(gpu, pipeline, [u, buffer, result]);
  const groups = streamWorkgroups(gpu, vectors);
  const encode = (enc: GPUCommandEncoder): void => dispatch(gpu, enc, pipeline, group, [groups, 1]);
  return {
    bytes: vectors * 16,
    encode,
    async checksum() {
      const enc = gpu.ctx.device.createCommandEncoder();
      enc.clearBuffer(result, 0, 4);
      encode(enc);
      const x = new Uint32Array(1);
      await readResults(gpu, enc, [{ buffer: result, bytes: 4, read: into(x) }]);
      return x[0];
    },
    release: () => gpu.pool.release(u, result),
  };
}
