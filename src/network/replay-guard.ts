/**
 * Refuses batch announcements a node has already seen or that are stale: a
 * valid signature on an old batch is still valid, so signatures alone do not
 * stop replays. Per signing node, timestamps must increase; a root is
 * accepted once; announcements older than maxAgeMs or further than maxSkewMs
 * in the future are refused.
 */
import { DsoError } from '../core/errors.js';
import type { BatchAnnouncement } from './batch.js';

export class ReplayGuard {
  private readonly last = new Map<string, number>();
  private readonly roots = new Set<string>();
  private readonly maxAgeMs: number;
  private readonly maxSkewMs: number;
  private readonly now: () => number;

  constructor(opts: { maxAgeMs?: number; maxSkewMs?: number; now?: () => number } = {}) {
    this.maxAgeMs = opts.maxAgeMs ?? 7 * 24 * 3600 * 1000;
    this.maxSkewMs = opts.maxSkewMs ?? 5 * 60 * 1000;
    this.now = opts.now ?? Date.now;
  }

  /** Throws REPLAYED_BATCH unless the announcement is new; records nothing. */
  check(a: BatchAnnouncement): void {
    const node = a.node.toLowerCase();
    const now = this.now();
    if (this.roots.has(a.root)) throw new DsoError('REPLAYED_BATCH', `batch ${a.root} was already accepted`);
    const last = this.last.get(node);
    if (last !== undefined && a.timestamp <= last)
      throw new DsoError('REPLAYED_BATCH', `batch from ${a.node} at ${a.timestamp} is not newer than its last (${last})`);
    if (a.timestamp < now - this.maxAgeMs) throw new DsoError('REPLAYED_BATCH', `batch from ${a.node} is older than ${this.maxAgeMs} ms`);
    if (a.timestamp > now + this.maxSkewMs)
      throw new DsoError('REPLAYED_BATCH', `batch from ${a.node} is dated ${a.timestamp - now} ms in the future`);
  }

  /** Records an announcement whose batch was verified and used. */
  accept(a: BatchAnnouncement): void {
    this.check(a);
    this.roots.add(a.root);
    this.last.set(a.node.toLowerCase(), a.timestamp);
  }
}
