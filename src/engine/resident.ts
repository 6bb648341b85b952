/** The engine's handle on uploaded codes: the host array, plus the backend's device copy if it made one. */
import { DsoError } from '../core/errors.js';
import type { Backend, DeviceCodes } from './backend.js';
import type { ResidentCodes } from './types.js';

export class Resident implements ResidentCodes {
  private released = false;

  constructor(
    readonly codes: Uint8Array,
    readonly dim: number,
    readonly n: number,
    readonly device: DeviceCodes,
    private readonly backend: Backend,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.backend.release?.(this.device);
  }

  /** The arrays a search needs, or an error if released or searched with another dim. */
  use(dim: number): { codes: Uint8Array; device: DeviceCodes } {
    if (this.released) throw new DsoError('INVALID_ARGUMENT', 'these resident codes have been released');
    if (dim !== this.dim) {
      throw new DsoError('DIM_MISMATCH', `the resident codes were uploaded with dim ${this.dim}, the search asks for dim ${dim}`);
    }
    return { codes: this.codes, device: this.device };
  }
}
