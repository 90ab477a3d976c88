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
  /**
   * Reply chunks Redis sent while a trip withheld them: the first one means the command that armed
   * the trip has run, for a test whose client never hears so (its process as good as dead).
   */
  withheldReplies = 0;
  /** Cuts the connections a trip holds, for `release`. */
  private readonly holding = new Set<() => void>();

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

  /** Ends every hold now, before its `holdMs`: for a test that acts while a command's reply is held, then lets the client resend it. */
  release(): void {
    for (const end of this.holding) end();
    this.holding.clear();
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
      this.holding.add(end);
      // Unref: a long hold (a command left waiting while a test signals its process) keeps no test run alive.
      setTimeout(end, this.holdMs).unref();
    });
    upstream.on('data', (chunk: Buffer) => {
      if (withholding) this.withheldReplies += 1;
      else client.write(chunk);
    });
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  }
}
