import { createConnection, createServer, Server, Socket } from 'node:net';

export interface Trip {
  /** What `matches` called the command that armed the trip. */
  label: string;
  at: number;
}

/**
 * A TCP proxy in front of Redis for one service. It passes everything through until the client
 * sends a chunk that `matches` (say, the append script with a MissionStarted event). Then it
 * forwards that command, lets Redis execute it, withholds every reply from then on, and after
 * `holdMs` cuts both sockets: the command took effect, but the client never heard so. This is
 * what a Redis crash or a network cut between "executed" and "replied" looks like. ioredis then
 * reconnects (through the proxy) and resends its unanswered commands. It trips `maxTrips` times
 * per label, never twice for one label within `cooldownMs`.
 */
export class ReplyDroppingProxy {
  readonly trips: Trip[] = [];
  port = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly target: { host: string; port: number },
    /** A label for a chunk the client sent that should arm a trip, else null. */
    private readonly matches: (sent: string) => string | null,
    /** Trips per label. */
    private readonly maxTrips = 1,
    private readonly holdMs = 150,
    /** No trip this soon after the last one of the same label, so that the client's resend of the command gets through. */
    private readonly cooldownMs = 1_500,
  ) {}

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

  private pipe(client: Socket): void {
    const upstream = createConnection(this.target);
    this.sockets.add(client);
    this.sockets.add(upstream);
    let withholding = false;
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      if (withholding) return;
      upstream.write(chunk);
      const label = this.matches(chunk.toString('utf8'));
      if (label === null) return;
      const earlier = this.trips.filter((t) => t.label === label);
      if (earlier.length >= this.maxTrips) return;
      if (earlier.length > 0 && Date.now() - earlier[earlier.length - 1].at < this.cooldownMs) return;
      this.trips.push({ label, at: Date.now() });
      withholding = true;
      // Unref: a long hold (a command left waiting while a test signals its process) keeps no test run alive.
      setTimeout(end, this.holdMs).unref();
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!withholding) client.write(chunk);
    });
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  }
}
