import Redis from 'ioredis';

/**
 * ioredis's message when its socketTimeout destroys a socket on which Redis sent nothing for the
 * whole bound (setSocketTimeout in ioredis/built/Redis.js); the error comes just before the close.
 */
const SILENT_SOCKET = /^Socket timeout\b/;

/**
 * Whether one connection (a server's, or one node's of a Cluster client) has lost Redis, as a
 * shutdown counts it: only once the loss lasts. A drop of a connection that was up (its socket
 * closed, ioredis reconnecting) starts a check, and the connection counts as lost when, before it
 * is ready again: its first reconnect attempt fails (it closes again: refused, reset, or silent
 * for the liveness bound), or the livenessMs since the drop run out (a connect that hangs), or it
 * ends. A drop that is itself the liveness bound's (Redis silent for that long already) counts at
 * once. A blip, one dropped socket whose first reconnect succeeds, so never counts: the waits of
 * a shutdown go on through it, where they used to end as for an outage.
 *
 * A connection that has not been ready since it was built counts as lost (nothing is known of
 * it), except one built to connect lazily, which is `idle` until then (a Cluster client's node
 * connects at its first command): if that first connect fails, it is lost at once.
 */
export class ConnectionLoss {
  private current: 'idle' | 'up' | 'dropped' | 'lost';
  /** The last error was the liveness bound's: the close it brings counts at once. */
  private silent = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    node: Redis,
    private readonly livenessMs: number,
  ) {
    this.current = node.status === 'ready' ? 'up' : node.status === 'wait' ? 'idle' : 'lost';
    node.on('error', (error: Error) => {
      this.silent = SILENT_SOCKET.test(error.message);
    });
    node.on('ready', () => this.back());
    node.on('close', () => this.closed());
    node.on('end', () => this.lose());
  }

  /** `dropped` while a drop is checked; `lost` once the loss lasts (see the class). */
  get state(): 'idle' | 'up' | 'dropped' | 'lost' {
    return this.current;
  }

  /** Calls `listener` each time the connection comes to count as lost; returns what removes it. */
  onLoss(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private closed(): void {
    const silent = this.silent;
    this.silent = false;
    if (this.current !== 'up' || silent) return this.lose();
    this.current = 'dropped';
    // Unref: a check under way keeps no stopping process alive.
    this.timer = setTimeout(() => this.lose(), this.livenessMs).unref();
  }

  private back(): void {
    clearTimeout(this.timer);
    this.silent = false;
    this.current = 'up';
  }

  private lose(): void {
    clearTimeout(this.timer);
    if (this.current === 'lost') return;
    this.current = 'lost';
    for (const listener of [...this.listeners]) listener();
  }
}
