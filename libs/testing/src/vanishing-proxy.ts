import { createConnection, Socket } from 'node:net';
import { LoopbackProxy } from './loopback-proxy';

/**
 * A TCP proxy on loopback in front of a Redis server that goes away as a client sends a command
 * that `cutsAt` matches, before passing it on: every connection closed and none accepted
 * afterwards, as a Redis that stops in the middle of a read. `cut` resolves once it is gone.
 */
export class VanishingProxy extends LoopbackProxy {
  readonly cut: Promise<void>;
  private vanished: () => void = () => undefined;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly cutsAt: RegExp,
  ) {
    super();
    this.cut = new Promise((resolve) => (this.vanished = resolve));
  }

  protected pipe(client: Socket): void {
    const upstream = createConnection(this.target);
    const end = this.track(client, upstream);
    client.on('data', (chunk: Buffer) => {
      if (this.cutsAt.test(chunk.toString('utf8'))) void this.stop().then(this.vanished);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  }
}
