import { createConnection, Socket } from 'node:net';
import { LoopbackProxy } from '@app/testing';

/** What Redis answers a write once `maxmemory` is reached under `noeviction`. */
const OUT_OF_MEMORY = "-OOM command not allowed when used memory > 'maxmemory'. script: append-mission-events\r\n";

/**
 * A TCP proxy in front of Redis that, while `refusing`, answers each command that `matches` with
 * Redis's out-of-memory error instead of passing it on: nothing is written, as when Redis refuses
 * a write for a while. Everything else passes through, so reads still work, as they do then. A
 * matching command must come alone in its chunk (the services await each append), or the replies
 * of the others would be lost with it.
 */
export class RefusingProxy extends LoopbackProxy {
  refusing = true;
  /** Commands answered with the refusal so far. */
  refusals = 0;

  constructor(
    private readonly target: { host: string; port: number },
    /** Whether a chunk the client sent is a command to refuse. */
    private readonly matches: (sent: string) => boolean,
  ) {
    super();
  }

  protected pipe(client: Socket): void {
    const upstream = createConnection(this.target);
    const end = this.track(client, upstream);
    client.on('data', (chunk: Buffer) => {
      if (this.refusing && this.matches(chunk.toString('utf8'))) {
        this.refusals += 1;
        client.write(OUT_OF_MEMORY);
      } else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  }
}
