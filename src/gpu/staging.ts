/**
 * Uploads at link speed: a ring of reused MAP_WRITE staging buffers. Each
 * chunk (at most 64 MiB) is copied into a mapped slot, unmapped, and copied on
 * the device into its destination; the slot is mapped again behind that copy,
 * so the host fills the next slot while the device copies the last one. Two
 * things this avoids, both measured: queue.writeBuffer runs at a third of the
 * link's speed (it stages through memory of its own, allocated per call), and
 * Dawn aborts the process on one huge writeBuffer. The host's copy into the
 * mapped slot is a plain JS copy, so shared memory (SharedArrayBuffer), which
 * Dawn cannot take in writeBuffer, needs no bounce buffer either.
 */
import type { GpuContext } from './device.js';

const MAP_WRITE = 0x0002;
const COPY_SRC = 0x0004;
const MAP_MODE_WRITE = 0x0002;

/** The most one staging slot holds. */
export const MAX_STAGING_CHUNK = 64 << 20;
/** Slots in the ring: one being filled, one being copied, one mapping again. */
const SLOTS = 3;

interface Slot {
  buffer: GPUBuffer;
  /** Resolves once the slot is mapped for writing again (its last copy is done). */
  ready: Promise<void>;
}

export interface TransferStats {
  /** Bytes uploaded through the ring, and how many device copies carried them. */
  stagedBytes: number;
  stagedChunks: number;
  /** Bytes uploaded with queue.writeBuffer (small writes). */
  directBytes: number;
  /** Bytes read back, and how many maps that took. */
  readBytes: number;
  readMaps: number;
}

export class StagingRing {
  private slots: Slot[] = [];
  private slotBytes = 0;
  private next = 0;
  /** Uploads run one after another: each walks the ring in order. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: GpuContext,
    readonly chunkBytes: number,
    private readonly stats: TransferStats,
  ) {}

  /** Copies `src` into `dst` at `dstOffset` (a multiple of 4); the last word is padded with zeros. */
  write(dst: GPUBuffer, dstOffset: number, src: Uint8Array): Promise<void> {
    const run = this.tail.then(() => this.writeNow(dst, dstOffset, src));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async writeNow(dst: GPUBuffer, dstOffset: number, src: Uint8Array): Promise<void> {
    const need = Math.min(this.chunkBytes, Math.ceil(src.byteLength / 4) * 4);
    await this.ensureSlots(need);
    for (let off = 0; off < src.byteLength; off += this.slotBytes) {
      const slot = this.slots[this.next];
      this.next = (this.next + 1) % SLOTS;
      await slot.ready;
      const chunk = src.subarray(off, Math.min(src.byteLength, off + this.slotBytes));
      const padded = Math.ceil(chunk.byteLength / 4) * 4;
      const mapped = new Uint8Array(slot.buffer.getMappedRange(0, padded));
      mapped.set(chunk);
      mapped.fill(0, chunk.byteLength);
      slot.buffer.unmap();
      const enc = this.ctx.device.createCommandEncoder();
      enc.copyBufferToBuffer(slot.buffer, 0, dst, dstOffset + off, padded);
      this.ctx.device.queue.submit([enc.finish()]);
      // Mapping waits for the copy just submitted: the slot is free when this resolves.
      slot.ready = slot.buffer.mapAsync(MAP_MODE_WRITE, 0, this.slotBytes);
      this.stats.stagedBytes += chunk.byteLength;
      this.stats.stagedChunks++;
    }
  }

  /** Slots of at least `bytes` (a power of two up to the chunk size), created mapped. */
  private async ensureSlots(bytes: number): Promise<void> {
    if (this.slotBytes >= bytes) return;
    const size = Math.min(this.chunkBytes, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1 << 16))));
    await Promise.all(this.slots.map((s) => s.ready.catch(() => undefined)));
    for (const s of this.slots) s.buffer.destroy();
    this.slots = Array.from({ length: SLOTS }, (_, i) => ({
      buffer: this.ctx.device.createBuffer({ size, usage: MAP_WRITE | COPY_SRC, mappedAtCreation: true, label: `staging ${i}` }),
      ready: Promise.resolve(),
    }));
    this.slotBytes = size;
    this.next = 0;
  }

  destroy(): void {
    for (const s of this.slots) s.buffer.destroy();
    this.slots = [];
    this.slotBytes = 0;
  }
}
