/**
 * Buffers for one engine: storage buffers are pooled by power-of-two size and
 * usage, uploads go through queue.writeBuffer, and a call's results come back
 * with one copy into one staging buffer and one map.
 */
import type { GpuContext } from './device.js';

const STORAGE = 0x0080 | 0x0008 | 0x0004; // STORAGE | COPY_DST | COPY_SRC
const UNIFORM = 0x0040 | 0x0008; // UNIFORM | COPY_DST
const READBACK = 0x0001 | 0x0008; // MAP_READ | COPY_DST
/** The most one writeBuffer call carries. */
const WRITE_CHUNK = 16 << 20;

function sizeClass(bytes: number): number {
  return Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(4, bytes))));
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();

  constructor(private readonly ctx: GpuContext) {}

  private take(kind: 'storage' | 'uniform' | 'readback', bytes: number): GPUBuffer {
    // Pooled sizes round up to a power of two, except past the binding limit's half, where that would waste most.
    const size = bytes > this.ctx.limits.maxStorageBufferBindingSize / 2 ? Math.ceil(bytes / 4) * 4 : sizeClass(bytes);
    const key = `${kind}:${size}`;
    const list = this.free.get(key);
    const reused = list?.pop();
    if (reused) return reused;
    const usage = kind === 'storage' ? STORAGE : kind === 'uniform' ? UNIFORM : READBACK;
    return this.ctx.device.createBuffer({ size, usage, label: key });
  }

  storage(bytes: number): GPUBuffer {
    return this.take('storage', bytes);
  }

  /**
   * A storage buffer holding `data` (padded with zeros to a multiple of 4
   * bytes). Written in chunks: Dawn aborts the process on one huge
   * writeBuffer, and crashes on memory of a SharedArrayBuffer, so shared
   * memory goes through a private bounce buffer.
   */
  upload(data: ArrayBufferView): GPUBuffer {
    const b = this.take('storage', data.byteLength);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const shared = data.buffer instanceof SharedArrayBuffer;
    const bounce = shared ? new Uint8Array(Math.min(WRITE_CHUNK, Math.ceil(bytes.byteLength / 4) * 4)) : undefined;
    for (let off = 0; off < bytes.byteLength; off += WRITE_CHUNK) {
      const chunk = bytes.subarray(off, Math.min(bytes.byteLength, off + WRITE_CHUNK));
      const whole = chunk.byteLength & ~3;
      if (bounce === undefined && whole === chunk.byteLength) {
        this.ctx.device.queue.writeBuffer(b, off, chunk);
        continue;
      }
      // A copy for shared memory, or to pad the last bytes to a whole word.
      const padded = (bounce ?? new Uint8Array(4)).subarray(0, Math.ceil(chunk.byteLength / 4) * 4);
      if (bounce) {
        padded.set(chunk);
        padded.fill(0, chunk.byteLength);
        this.ctx.device.queue.writeBuffer(b, off, padded);
      } else {
        if (whole > 0) this.ctx.device.queue.writeBuffer(b, off, chunk, 0, whole);
        padded.set(chunk.subarray(whole));
        this.ctx.device.queue.writeBuffer(b, off + whole, padded);
      }
    }
    return b;
  }

  uniform(words: ArrayLike<number>): GPUBuffer {
    const data = Uint32Array.from(words);
    const b = this.take('uniform', data.byteLength);
    this.ctx.device.queue.writeBuffer(b, 0, data);
    return b;
  }

  readback(bytes: number): GPUBuffer {
    return this.take('readback', bytes);
  }

  release(...buffers: GPUBuffer[]): void {
    for (const b of buffers) {
      const key = b.label;
      const list = this.free.get(key) ?? [];
      list.push(b);
      this.free.set(key, list);
    }
  }

  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }
}

/** Copies each (source, bytes) into one staging buffer, submits `encoder`, maps once, returns the byte ranges. */
export async function readBack(
  ctx: GpuContext,
  pool: BufferPool,
  encoder: GPUCommandEncoder,
  parts: Array<{ buffer: GPUBuffer; bytes: number }>,
): Promise<Uint8Array[]> {
  const offsets: number[] = [];
  let total = 0;
  for (const p of parts) {
    offsets.push(total);
    total += Math.ceil(p.bytes / 4) * 4;
  }
  const staging = pool.readback(total);
  parts.forEach((p, i) => encoder.copyBufferToBuffer(p.buffer, 0, staging, offsets[i], Math.ceil(p.bytes / 4) * 4));
  ctx.device.queue.submit([encoder.finish()]);
  await staging.mapAsync(0x0001 /* GPUMapMode.READ */, 0, total);
  const all = new Uint8Array(staging.getMappedRange(0, total).slice(0));
  staging.unmap();
  pool.release(staging);
  return parts.map((p, i) => all.subarray(offsets[i], offsets[i] + p.bytes));
}

/** 2-D dispatch for `count` invocations of workgroup size `wg` within the per-dimension limit. */
export function grid(ctx: GpuContext, count: number, wg: number): [number, number] {
  const groups = Math.max(1, Math.ceil(count / wg));
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  return groups <= max ? [groups, 1] : [max, Math.ceil(groups / max)];
}
