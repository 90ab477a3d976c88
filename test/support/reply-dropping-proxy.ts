import { createConnection, Socket } from 'node:net';
import { LoopbackProxy } from '@app/testing';

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
export class ReplyDroppingProxy extends LoopbackProxy {
  readonly trips: Trip[] = [];

  constructor(
    private readonly target: { host: string; port: number },
    /** A label for a chunk the client sent that should arm a trip, else null. */
    private readonly matches: (sent: string) => string | null,
    /** Trips per label. */
    private readonly maxTrips = 1,
    private readonly holdMs = 150,
    /** No trip this soon after the last one of the same label, so that the client's resend of the command gets through. */
    private readonly cooldownMs = 1_500,
  ) {
    super();
  }

  protected pipe(client: Socket): void {
    const upstream = createConnection(this.target);
    const end = this.track(client, upstream);
    let withholding = false;
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
