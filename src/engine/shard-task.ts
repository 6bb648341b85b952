/** What the engine sends a shard worker: enough to rebuild its host backend and find its rows. */
import type { DsoErrorCode } from '../core/errors.js';
import type { Tier } from '../simd/addon.js';
import type { TopK } from './types.js';

export type HostSpec = { backend: 'js' } | { backend: 'native'; isa: Tier; vpopcntdq: boolean };

export interface ShardTask {
  host: HostSpec;
  codes: SharedArrayBuffer;
  byteOffset: number;
  bytesPerRow: number;
  rowStart: number;
  rowEnd: number;
  queries: Uint8Array;
  dim: number;
  k: number;
}

/** A shard's top-k and the kernel that ran it ('native/avx2', 'js/js'), or the error it raised. */
export type ShardResult = (TopK & { ran: string }) | { error: { code: DsoErrorCode; message: string } };
