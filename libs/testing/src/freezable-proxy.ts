import { createConnection, Socket } from 'node:net';
import { LoopbackProxy } from './loopback-proxy';

/**
 * A TCP proxy on loopback in front of a Redis server that can go silent: `freeze()` stops
 * forwarding in both directions without closing a socket, as a firewall that drops packets, a
 * frozen VM or a pulled cable does. The bytes stay unread in the kernel's buffers, neither lost nor
 * delivered; connections opened meanwhile connect (the kernel accepts them) and go silent too.
 * `thaw()` forwards again, the held bytes first, as a network that comes back delivers them late.
 */
export class FreezableProxy extends LoopbackProxy {
  private frozen = false;

  constructor(private readonly target: { host: string; port: number }) {
    super();
  }

  freeze(): void {
    this.frozen = true;
    for (const socket of this.sockets) socket.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const socket of this.sockets) socket.resume();
  }

  protected pipe(client: Socket): void {
    const upstream = createConnection(this.target);
    const end = this.track(client, upstream);
    if (this.frozen) [client, upstream].forEach((socket) => socket.pause());
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  }
}
