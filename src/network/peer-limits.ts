/**
 * What a node spends on its peers, and the account of what it is spending.
 *
 * A block request is a few bytes per CID and each answer up to a block
 * (1 MiB): one 42 KB request naming one large block 1,024 times once made a
 * node build a gigabyte of replies. Here every request is bounded in CIDs,
 * the CIDs a peer may have in flight are bounded, and so are the block bytes
 * read for a peer and not yet handed to its connection, per peer and in
 * total; a wait for any of it has a deadline. Defaults are safe for a node on
 * the open network; P2POptions.limits (and the node's `peerLimits` setting)
 * change them.
 */
import { wholeNumber } from '../core/checks.js';
import { DsoError } from '../core/errors.js';

export interface PeerLimits {
  /** CIDs one block request may name; a request over it is refused (PEER_LIMIT). Also the size of the requests this node sends. */
  maxCidsPerRequest: number;
  /** CIDs one peer may have being answered at once, over all its open requests; a request past it is refused (PEER_LIMIT). */
  maxCidsPerPeer: number;
  /** Block bytes read for one peer and not yet handed to its connection; further blocks wait. At least the largest block. */
  maxBytesInFlightPerPeer: number;
  /** The same over all peers. At least maxBytesInFlightPerPeer. */
  maxBytesInFlight: number;
  /** Longest a dial may take. */
  dialTimeoutMs: number;
  /** Longest any one step of a block exchange may take: opening the stream, the request, each block, either side. */
  streamTimeoutMs: number;
  /** Longest a whole block request may take, either side (waits for the byte budget included). */
  requestTimeoutMs: number;
}

export const DEFAULT_PEER_LIMITS: Readonly<PeerLimits> = {
  maxCidsPerRequest: 1024,
  maxCidsPerPeer: 4096,
  maxBytesInFlightPerPeer: 8 << 20,
  maxBytesInFlight: 64 << 20,
  dialTimeoutMs: 10_000,
  streamTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
};

/** The limits with defaults filled in, checked against each other and the largest block; INVALID_ARGUMENT otherwise. */
export function peerLimits(given: Partial<PeerLimits> | undefined, maxBlockBytes: number): PeerLimits {
  if (given !== undefined && (given === null || typeof given !== 'object'))
    throw new DsoError('INVALID_ARGUMENT', 'peer limits must be an object');
  const unknown = Object.keys(given ?? {}).filter((k) => !(k in DEFAULT_PEER_LIMITS));
  if (unknown.length > 0) throw new DsoError('INVALID_ARGUMENT', `unknown peer limits: ${unknown.join(', ')}`);
  const l = { ...DEFAULT_PEER_LIMITS, ...given };
  for (const k of Object.keys(DEFAULT_PEER_LIMITS) as (keyof PeerLimits)[]) wholeNumber(l[k], `peer limit ${k}`, 'INVALID_ARGUMENT', 1);
  wholeNumber(l.maxCidsPerPeer, 'peer limit maxCidsPerPeer', 'INVALID_ARGUMENT', l.maxCidsPerRequest);
  wholeNumber(
    l.maxBytesInFlightPerPeer,
    'peer limit maxBytesInFlightPerPeer (at least the largest block)',
    'INVALID_ARGUMENT',
    maxBlockBytes,
  );
  wholeNumber(l.maxBytesInFlight, 'peer limit maxBytesInFlight', 'INVALID_ARGUMENT', l.maxBytesInFlightPerPeer);
  return l;
}

interface Waiter {
  peer: string;
  bytes: number;
  grant: () => void;
}

/**
 * The CIDs and block bytes being served, per peer and in total. Bytes are
 * reserved before a block is read and released once it is written out;
 * reservations that do not fit wait in arrival order, each taking its turn as
 * soon as both its peer's budget and the total have room.
 */
export class InFlight {
  private total = 0;
  private peakTotal = 0;
  private readonly bytesOf = new Map<string, number>();
  private readonly cidsOf = new Map<string, number>();
  private readonly waiting: Waiter[] = [];

  constructor(private readonly limits: PeerLimits) {}

  get bytes(): number {
    return this.total;
  }

  /** The most bytes ever in flight at once. */
  get peakBytes(): number {
    return this.peakTotal;
  }

  /** Claims `n` CIDs for one of `peer`'s requests, or throws PEER_LIMIT. */
  claimCids(peer: string, n: number): void {
    const now = this.cidsOf.get(peer) ?? 0;
    if (now + n > this.limits.maxCidsPerPeer)
      throw new DsoError(
        'PEER_LIMIT',
        `peer ${peer} asked for ${n} more blocks with ${now} still being answered; at most ${this.limits.maxCidsPerPeer} at once`,
      );
    this.cidsOf.set(peer, now + n);
  }

  releaseCids(peer: string, n: number): void {
    const left = (this.cidsOf.get(peer) ?? 0) - n;
    if (left > 0) this.cidsOf.set(peer, left);
    else this.cidsOf.delete(peer);
  }

  /** Waits until `bytes` more fit `peer`'s budget and the total; on abort, gives up its place and throws the signal's reason. */
  async reserve(peer: string, bytes: number, signal: AbortSignal): Promise<void> {
    if (this.waiting.length === 0 && this.fits(peer, bytes)) {
      this.take(peer, bytes);
      return;
    }
    signal.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        peer,
        bytes,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(w), 1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(w);
    });
  }

  release(peer: string, bytes: number): void {
    if (bytes <= 0) return;
    this.total -= bytes;
    const left = (this.bytesOf.get(peer) ?? 0) - bytes;
    if (left > 0) this.bytesOf.set(peer, left);
    else this.bytesOf.delete(peer);
    for (let i = 0; i < this.waiting.length;) {
      const w = this.waiting[i];
      if (!this.fits(w.peer, w.bytes)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.take(w.peer, w.bytes);
      w.grant();
    }
  }

  private fits(peer: string, bytes: number): boolean {
    return (
      this.total + bytes <= this.limits.maxBytesInFlight && (this.bytesOf.get(peer) ?? 0) + bytes <= this.limits.maxBytesInFlightPerPeer
    );
  }

  private take(peer: string, bytes: number): void {
    this.total += bytes;
    this.peakTotal = Math.max(this.peakTotal, this.total);
    this.bytesOf.set(peer, (this.bytesOf.get(peer) ?? 0) + bytes);
  }
}
