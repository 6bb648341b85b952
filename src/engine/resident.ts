/**
 * The engine's handle on uploaded codes: the host rows (shared memory, so
 * large searches can be sharded, and the copy a fallback searches after a
 * device loss), plus the backend's device copy if it made one. Rows can be
 * appended: only they travel to the device. Adopted host rows (the caller's
 * shared memory) grow in place when the new rows follow them there, or follow
 * an identical copy of them in other shared memory (an index that moved its
 * storage to grow); otherwise the rows go into spare room of the handle's own
 * copy. A search reads the rows present when it started (or the prefix it
 * asks for), whatever is appended meanwhile.
 */
import { bytesPerRow, checkCodes } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import type { Backend, DeviceCodes } from './backend.js';
import type { ResidentCodes } from './types.js';

const GROWTH = 1.5;

export class Resident implements ResidentCodes {
  private released = false;
  private host: Uint8Array;
  /** Whether `host` is this handle's own memory (with room past it), not the caller's adopted rows. */
  private owned: boolean;
  private device: DeviceCodes;
  /** Appends run one at a time, in call order. */
  private tail: Promise<void> = Promise.resolve();

  /**
   * host: the rows; adopted: whether they are the caller's shared memory
   * (else this handle's own copy, which may have room past the rows).
   */
  constructor(
    host: Uint8Array,
    private readonly adopted: boolean,
    readonly dim: number,
    device: DeviceCodes,
    private readonly backend: Backend,
  ) {
    this.host = host;
    this.owned = !adopted;
    this.device = device;
  }

  get onDevice(): boolean {
    return this.device !== undefined && this.backend.holdsDevice?.(this.device) === true;
  }

  get n(): number {
    return this.host.length / bytesPerRow(this.dim);
  }

  async append(codes: Uint8Array): Promise<void> {
    this.live();
    const rows = checkCodes(codes, { dim: this.dim }).codes;
    const run = this.tail.then(() => this.appendNow(rows));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async appendNow(codes: Uint8Array): Promise<void> {
    this.live();
    if (codes.length === 0) return;
    // The device first: until the host rows grow, searches read the old count on both.
    try {
      this.device = await this.backend.append?.(this.device, codes, this.dim);
    } catch {
      // A device copy that may hold some of these rows can never line up with the host again: drop it, search on the host.
      this.backend.release?.(this.device);
      this.device = undefined;
    }
    const h = this.host;
    const start = codes.byteOffset - h.length;
    if (this.adopted && !this.owned && codes.buffer instanceof SharedArrayBuffer && start >= 0) {
      const moved = new Uint8Array(codes.buffer, start, h.length);
      // Buffer.compare is a memcmp: a moved copy is checked, never trusted.
      if ((codes.buffer === h.buffer && start === h.byteOffset) || Buffer.compare(moved, h) === 0) {
        this.host = new Uint8Array(codes.buffer, start, h.length + codes.length);
        return;
      }
    }
    const spare = this.owned ? h.buffer.byteLength - h.byteOffset - h.byteLength : 0;
    if (codes.length <= spare) {
      new Uint8Array(h.buffer, h.byteOffset + h.length, codes.length).set(codes);
      this.host = new Uint8Array(h.buffer, h.byteOffset, h.length + codes.length);
      return;
    }
    const grown = new Uint8Array(new SharedArrayBuffer(Math.ceil((h.length + codes.length) * GROWTH)), 0, h.length + codes.length);
    grown.set(h);
    grown.set(codes, h.length);
    this.host = grown;
    this.owned = true;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.backend.release?.(this.device);
  }

  private live(): void {
    if (this.released) throw new DsoError('INVALID_ARGUMENT', 'these resident codes have been released');
  }

  /** The host rows a search reads (the first `rows`, default all) and the device copy, or an error if released or searched with another dim. */
  use(dim: number, rows?: number): { codes: Uint8Array; device: DeviceCodes } {
    this.live();
    if (dim !== this.dim) {
      throw new DsoError('DIM_MISMATCH', `the resident codes were uploaded with dim ${this.dim}, the search asks for dim ${dim}`);
    }
    if (rows === undefined) return { codes: this.host, device: this.device };
    if (!Number.isInteger(rows) || rows < 0 || rows > this.n) {
      throw new DsoError('INVALID_COUNT', `rows must be an integer in [0, ${this.n}] (the resident rows), got ${String(rows)}`);
    }
    return { codes: this.host.subarray(0, rows * bytesPerRow(this.dim)), device: this.device };
  }
}
