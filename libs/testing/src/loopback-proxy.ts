import { createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy on a free loopback port in front of a Redis server, for tests that come between a
 * client and its server: what it does to the traffic is its subclass's `pipe`.
 */
export abstract class LoopbackProxy {
  port = 0;
  private server: Server | null = null;
  /** Every socket open on either side, for `stop` (and for a subclass that acts on all of them). */
  protected readonly sockets = new Set<Socket>();

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Closes every connection open now, and no other: a blip (a router's restart, a load balancer's
   * failover) while Redis stays up. Connections opened afterwards go through as before.
   */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Keeps the pair for `stop`; the function returned closes both sides, as a proxy must when one side goes. */
  protected track(client: Socket, upstream: Socket): () => void {
    this.sockets.add(client);
    this.sockets.add(upstream);
    return () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
  }

  /** Connects `client` to the server (or not) and passes the traffic as this proxy does. */
  protected abstract pipe(client: Socket): void;
}
