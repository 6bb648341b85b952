/**
 * An index's rows kept resident on its engine's device (the GPU of a webgpu
 * engine, or of auto where a resident search of this size was measured
 * faster there): uploaded at the first search, then only the rows added
 * since; a re-sort or compaction (a new row order) uploads them again. The
 * handle adopts the index's shared memory instead of copying it. Searches
 * name their snapshot's row count, so rows added meanwhile are not seen. An
 * engine that keeps codes in host memory declines (the handle is not on a
 * device), and the index searches its own rows, asking again once it has
 * doubled.
 */
import type { Engine, ResidentCodes, TopK } from '../engine/types.js';

export class ResidentRows {
  private handle?: ResidentCodes;
  /** The index layout (row order) the handle holds. */
  private layout = -1;
  private declinedAt = 0;
  /** Syncs run one at a time: two searches must not append the same rows. */
  private lock: Promise<unknown> = Promise.resolve();

  /** Searches `base` (the index's codes, n rows) on the device; undefined where the engine keeps codes on the host. */
  async search(engine: Engine, base: Uint8Array, layout: number, queries: Uint8Array, dim: number, k: number): Promise<TopK | undefined> {
    const n = base.length / Math.ceil(dim / 8);
    if (this.handle === undefined && n < 2 * this.declinedAt) return undefined;
    // The search starts within the turn (hammingTopK takes its snapshot before any await): no later sync can release the handle first.
    const turn = this.lock.then(async () => {
      const handle = await this.sync(engine, base, layout, n, dim);
      return handle ? { result: engine.hammingTopK(handle, queries, { dim, k, rows: n }) } : undefined;
    });
    this.lock = turn.catch(() => undefined);
    return (await turn)?.result;
  }

  private async sync(engine: Engine, base: Uint8Array, layout: number, n: number, dim: number): Promise<ResidentCodes | undefined> {
    const B = Math.ceil(dim / 8);
    if (this.handle && (this.layout !== layout || !this.handle.onDevice)) this.release();
    if (!this.handle) {
      if (n < 2 * this.declinedAt) return undefined;
      const h = await engine.uploadCodes(base, { dim, adopt: true });
      if (!h.onDevice) {
        h.release();
        this.declinedAt = Math.max(1, n);
        return undefined;
      }
      this.handle = h;
      this.layout = layout;
    } else if (this.handle.n < n) {
      await this.handle.append(base.subarray(this.handle.n * B));
    }
    return this.handle;
  }

  release(): void {
    this.handle?.release();
    this.handle = undefined;
    this.layout = -1;
  }
}
