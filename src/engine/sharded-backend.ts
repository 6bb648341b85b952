/**
 * Sharding as a strategy of the engine: a host backend (native or js) whose
 * Hamming searches over at least `shardRows` rows of shared memory run in row
 * shards on a pool of worker threads, each running that same backend. Other
 * calls, and searches over memory the workers cannot see, stay on the host.
 */
import { bytesPerRow } from '../core/checks.js';
import type { Backend } from './backend.js';
import { ShardPool } from './shard-pool.js';
import type { HostSpec } from './shard-task.js';
import type { ShardStats } from './types.js';

export const DEFAULT_SHARD_ROWS = 65_536;

export interface ShardedBackend extends Backend {
  stats(): ShardStats;
}

export function shardedBackend(host: Backend, threads: number, shardRows: number): ShardedBackend {
  const total: ShardStats = { shardBatches: 0, shardTasks: 0, workerTiers: [] };
  let pool: ShardPool | undefined;
  const spec: HostSpec =
    host.info.backend === 'js'
      ? { backend: 'js' }
      : { backend: 'native', isa: host.info.isa as Exclude<typeof host.info.isa, 'js'>, vpopcntdq: host.info.vpopcntdq };
  return {
    ...host,
    get info() {
      return { ...host.info, threads };
    },
    hammingTopK: async (base, queries, dim, k, device, out) => {
      const shared = base.buffer instanceof SharedArrayBuffer;
      if (threads < 2 || !shared || base.byteLength / bytesPerRow(dim) < shardRows)
        return host.hammingTopK(base, queries, dim, k, device, out);
      pool ??= new ShardPool(threads, spec, total);
      return pool.search(base, queries, dim, k);
    },
    stats: () => ({ ...total, workerTiers: [...total.workerTiers] }),
    close: async () => {
      await pool?.close();
      pool = undefined;
      await host.close?.();
    },
  };
}
