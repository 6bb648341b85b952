/**
 * Deadlines for waits on peers. A peer can accept a stream and then say
 * nothing, forever; every wait on one runs under a signal that aborts it, and
 * the abort surfaces as PEER_TIMEOUT naming what was being waited for.
 */
import { DsoError } from '../core/errors.js';

/**
 * The deadlines of one exchange with a peer: the whole of it, and each step
 * (a dial, a message read or written). One signal and two timers for the
 * whole exchange, however many steps it has: a request of a thousand blocks
 * must not cost a thousand timers and signals.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly whole: NodeJS.Timeout;
  private readonly step: NodeJS.Timeout;
  private current: string;
  /** While set, the step timer does not run out (the wait is this node's, e.g. for its own byte budget). */
  private holding = false;

  constructor(
    totalMs: number,
    stepMs: number,
    private readonly what: string,
  ) {
    this.current = what;
    this.whole = setTimeout(() => this.abort(`${what}: not done within ${totalMs} ms`), totalMs);
    this.step = setTimeout(
      () => (this.holding ? this.step.refresh() : this.abort(`${this.current}: no answer within ${stepMs} ms`)),
      stepMs,
    );
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Runs one step under the step deadline (restarted) and the whole one; a deadline that passes becomes PEER_TIMEOUT. */
  async run<T>(what: string, step: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.current = what;
    this.step.refresh();
    try {
      return await step(this.controller.signal);
    } catch (e) {
      if (this.controller.signal.aborted) throw this.controller.signal.reason as DsoError;
      throw e;
    }
  }

  /** Runs a wait of this node's own under the whole deadline only. */
  async hold<T>(wait: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.holding = true;
    try {
      return await this.run(this.what, wait);
    } finally {
      this.holding = false;
      this.step.refresh();
    }
  }

  clear(): void {
    clearTimeout(this.whole);
    clearTimeout(this.step);
  }

  private abort(why: string): void {
    if (!this.controller.signal.aborted) this.controller.abort(new DsoError('PEER_TIMEOUT', why));
  }
}
