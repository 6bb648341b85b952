/**
 * Every bad input and every unavailable resource surfaces as a DsoError with a
 * stable `code`; messages say what was expected and what came. The native
 * addon raises the same class (it is registered with the addon at load).
 */
export type DsoErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_DIM'
  | 'INVALID_K'
  | 'INVALID_COUNT'
  | 'INVALID_GROUP_SIZE'
  | 'INVALID_TRIM'
  | 'INVALID_SCALE'
  | 'LENGTH_MISMATCH'
  | 'DIM_MISMATCH'
  | 'NON_FINITE'
  | 'DETACHED_BUFFER'
  | 'TOO_LARGE'
  | 'OUT_OF_MEMORY'
  | 'ISA_UNAVAILABLE'
  | 'BACKEND_UNAVAILABLE'
  | 'ADDON_UNAVAILABLE'
  | 'ENGINE_CLOSED'
  | 'WORKER_FAILED'
  | 'DUPLICATE_LABEL'
  | 'CORRUPT_INDEX'
  | 'IO_ERROR'
  | 'NOT_A_FILE'
  | 'INVALID_EXPERIENCE'
  | 'UNKNOWN_EXPERIENCE'
  | 'INVALID_OPERATION'
  | 'LIBRARY_MISMATCH'
  | 'LIBRARY_CLOSED'
  | 'MALFORMED_RECORD'
  | 'CID_MISMATCH'
  | 'BAD_PROOF'
  | 'BAD_SIGNATURE'
  | 'REPLAYED_BATCH'
  | 'PEER_LIMIT'
  | 'PEER_TIMEOUT'
  | 'INVALID_KEY_FILE'
  | 'CONTRACT_REVERTED'
  | 'CHAIN_ERROR'
  | 'INSUFFICIENT_FUNDS'
  | 'NOT_A_REGISTRY'
  | 'INVALID_CONFIG'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'DATABASE_ERROR'
  | 'EMBEDDER_UNAVAILABLE'
  | 'MODEL_ERROR'
  | 'MODEL_TIMEOUT'
  | 'MODEL_BAD_RESPONSE';

export class DsoError extends Error {
  readonly code: DsoErrorCode;

  constructor(code: DsoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DsoError';
    this.code = code;
  }
}

export function isDsoError(e: unknown, code?: DsoErrorCode): e is DsoError {
  return e instanceof DsoError && (code === undefined || e.code === code);
}

/** One line for a log or a report: the code and message of a DsoError, the message of anything else. */
export function describeError(e: unknown): string {
  return e instanceof DsoError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
}
