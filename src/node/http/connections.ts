/**
 * Deadlines and a cap for the HTTP server's connections, so slow callers
 * cannot hold the node. Each connection is in one phase: waiting for a
 * request's headers (from connect, or from the last response), receiving a
 * body (from the headers until the handler runs), or being answered. The
 * first two have deadlines (headers, whole request) checked four times a
 * second; the handler has none (a sync may take a while). Past `max` open
 * connections, the one stuck longest in its phase without being answered is
 * closed (a slow sender, rarely a busy keep-alive client), so a flood of slow
 * connections cannot exhaust file descriptors and a health check that
 * arrives later is still answered. (Node's own request timeouts
 * are set too, but its periodic check did not close half-sent requests
 * reliably in tests, so these do not rely on it.)
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

interface State {
  phase: 'headers' | 'body' | 'serving';
  since: number;
}

export interface ConnectionLimits {
  max: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

export class ConnectionGuard {
  /** Open sockets, oldest first. */
  private readonly open = new Map<Socket, State>();
  private sweeper?: NodeJS.Timeout;
  shed = 0;
  timedOut = 0;

  constructor(private readonly limits: ConnectionLimits) {}

  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.open.set(socket, { phase: 'headers', since: Date.now() });
      socket.once('close', () => this.open.delete(socket));
      if (this.open.size > this.limits.max) this.shedOne();
    });
    server.on('request', (req: IncomingMessage) => this.enter(req.socket, 'body'));
    server.on('listening', () => {
      this.sweeper = setInterval(() => this.sweep(), 250).unref();
    });
    server.on('close', () => clearInterval(this.sweeper));
  }

  /** The request on this socket has its body and is being handled (true), or was answered (false). */
  serving(socket: Socket, on: boolean): void {
    this.enter(socket, on ? 'serving' : 'headers');
  }

  get size(): number {
    return this.open.size;
  }

  private enter(socket: Socket, phase: State['phase']): void {
    const s = this.open.get(socket);
    if (s) {
      s.phase = phase;
      s.since = Date.now();
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [socket, s] of this.open) {
      const limit = s.phase === 'headers' ? this.limits.headersTimeoutMs : s.phase === 'body' ? this.limits.requestTimeoutMs : Infinity;
      if (now - s.since <= limit) continue;
      this.open.delete(socket);
      this.timedOut++;
      socket.destroy();
    }
  }

  private shedOne(): void {
    let worst: Socket | undefined;
    let since = Infinity;
    for (const [socket, s] of this.open) {
      if (s.phase !== 'serving' && s.since < since) {
        worst = socket;
        since = s.since;
      }
    }
    if (worst === undefined) return;
    this.open.delete(worst);
    this.shed++;
    worst.destroy();
  }
}
