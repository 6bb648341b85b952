/**
 * Buffers for one engine: storage buffers are pooled by power-of-two size and
 * usage; large uploads go through the staging ring (staging.ts), small ones
 * through queue.writeBuffer; a call's results come back with one copy into
 * one pooled staging buffer and one map, read from the mapped range straight
 * into memory the caller holds (its `out`, or the result arrays), never into
 * a fresh copy of the whole range.
 */
import type { GpuContext } from './device.js';
import type { StagingRing, TransferStats } from './staging.js';

const STORAGE = 0x0080 | 0x0008 | 0x0004; // STORAGE | COPY_DST | COPY_SRC
const UNIFORM = 0x0040 | 0x0008; // UNIFORM | COPY_DST
const READBACK = 0x0001 | 0x0008; // MAP_READ | COPY_DST
/** Writes up to this size go through queue.writeBuffer: one call, no ring round trip. */
const DIRECT_BYTES = 256 << 10;

function sizeClass(bytes: number): number {
  return Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(4, bytes))));
}

function asBytes(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();

  constructor(
    private readonly ctx: GpuContext,
    private readonly ring: StagingRing,
    private readonly stats: TransferStats,
  ) {}

  /** The staging ring's chunk size. */
  get chunkBytes(): number {
    return this.ring.chunkBytes;
  }

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

  /** A storage buffer holding `data`, padded with zeros to a multiple of 4 bytes. */
  async upload(data: ArrayBufferView): Promise<GPUBuffer> {
    const b = this.take('storage', data.byteLength);
    try {
      await this.write(b, 0, data);
    } catch (e) {
      this.release(b);
      throw e;
    }
    return b;
  }

  /**
   * Writes `data` into `dst` at `offset` (a multiple of 4), the last word
   * padded with zeros. Small writes go through queue.writeBuffer, from a
   * private copy where Dawn cannot take the memory (a SharedArrayBuffer, which
   * crashes it) or the length is not whole words; larger ones through the
   * staging ring, in chunks. Either way the write is queued before any later
   * submission, and `data` may be reused once this resolves.
   */
  async write(dst: GPUBuffer, offset: number, data: ArrayBufferView): Promise<void> {
    const bytes = asBytes(data);
    if (bytes.byteLength > Math.min(DIRECT_BYTES, this.ring.chunkBytes)) return this.ring.write(dst, offset, bytes);
    this.writeSmall(dst, offset, bytes);
  }

  /** writeBuffer for small data (at most DIRECT_BYTES), synchronously queued. */
  writeSmall(dst: GPUBuffer, offset: number, bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.stats.directBytes += bytes.byteLength;
    if (bytes.byteLength % 4 === 0 && !(bytes.buffer instanceof SharedArrayBuffer)) {
      this.ctx.device.queue.writeBuffer(dst, offset, bytes);
      return;
    }
    const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
    padded.set(bytes);
    this.ctx.device.queue.writeBuffer(dst, offset, padded);
  }

  /** A uniform buffer holding `data` (a ParamLayout's encoding). */
  uniform(data: Uint8Array): GPUBuffer {
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
    this.ring.destroy();
  }
}

/** One result buffer to read back: its first `bytes`, handed to `read` while mapped (copy what is kept). */
export interface Readback {
  buffer: GPUBuffer;
  bytes: number;
  read(mapped: Uint8Array): void;
}

/** A reader that copies the mapped bytes into `dst` (at least as long). */
export function into(dst: ArrayBufferView): (mapped: Uint8Array) => void {
  return (mapped) => asBytes(dst).set(mapped);
}

/** Copies each part into one pooled staging buffer, submits `encoder`, maps once and hands each part to its reader. */
export async function readBack(
  ctx: GpuContext,
  pool: BufferPool,
  stats: TransferStats,
  encoder: GPUCommandEncoder,
  parts: Readback[],
): Promise<void> {
  const offsets: number[] = [];
  let total = 0;
  for (const p of parts) {
    offsets.push(total);
    total += Math.ceil(p.bytes / 4) * 4;
  }
  const staging = pool.readback(total);
  parts.forEach((p, i) => encoder.copyBufferToBuffer(p.buffer, 0, staging, offsets[i], Math.ceil(p.bytes / 4) * 4));
  ctx.device.queue.submit([encoder.finish()]);
  try {
    await staging.mapAsync(0x0001 /* GPUMapMode.READ */, 0, total);
  } catch (e) {
    // A failed map (device lost) leaves the buffer unmapped; it may go back to the pool.
    pool.release(staging);
    throw e;
  }
  const range = staging.getMappedRange(0, total);
  try {
    parts.forEach((p, i) => p.read(new Uint8Array(range, offsets[i], p.bytes)));
  } finally {
    staging.unmap();
    pool.release(staging);
  }
  stats.readBytes += total;
  stats.readMaps++;
}

/** 2-D dispatch for `count` invocations of workgroup size `wg` within the per-dimension limit. */
export function grid(ctx: GpuContext, count: number, wg: number): [number, number] {
  const groups = Math.max(1, Math.ceil(count / wg));
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  return groups <= max ? [groups, 1] : [max, Math.ceil(groups / max)];
}
