import { Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Inject, Injectable, OnApplicationShutdown, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Environment } from '@app/config';
import { ENVIRONMENT } from './tokens';

/** While draining, how often the connections that have since become idle, or stayed unused, are closed. */
const SWEEP_MS = 50;
/** A connection that has sent nothing for this long is a browser's preconnect, not a request on its way. */
const UNUSED_CONNECTION_MS = 1_000;

/**
 * Closes the HTTP server's connections at shutdown instead of waiting on them for ever. Node's
 * server.close() closes only the connections idle at that moment and waits for the rest; one busy
 * then stays open as a keep-alive connection and takes request after request until
 * HTTP_KEEP_ALIVE_TIMEOUT_MS passes without one. A console polling every few seconds kept a
 * stopping intake open, and a live stream opened again over such a connection held it until it
 * was killed. A connection that never sent a byte (a browser's preconnect, opened in case the page
 * asks something) is no idle one to Node either: it counts as a request under way, which the
 * headers timeout would end, but close() stops that check.
 *
 * From the first destroy hook (SIGTERM, app.close()) the server takes no new connection, every
 * response says `Connection: close`, a connection is closed once it is idle or when it has sent
 * nothing for UNUSED_CONNECTION_MS, and whatever is still open SHUTDOWN_GRACE_MS later (a response
 * that does not end) is cut. The shutdown hooks, which close Redis, run only once the server has
 * closed: Nest's own close of the server, between the destroy and the shutdown hooks, waits for its
 * 'close' even when it is no longer listening.
 *
 * In the root module (createServiceApp adds it): Nest runs destroy hooks from the root module
 * down, and a global module's last, so from CoreModule the drain began only after the executor's
 * own grace for its LLM calls.
 */
@Injectable()
export class HttpDrain implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private draining = false;
  private readonly timers: NodeJS.Timeout[] = [];
  /** When each open connection was accepted: Node lists its connections only privately. */
  private readonly connections = new Map<Socket, number>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

  onModuleInit(): void {
    const server = this.server();
    // First among the listeners: the header is set before the app writes anything.
    server?.prependListener('request', (_request, response: ServerResponse) => {
      if (this.draining) response.setHeader('Connection', 'close');
    });
    server?.on('connection', (socket: Socket) => {
      this.connections.set(socket, Date.now());
      socket.once('close', () => this.connections.delete(socket));
    });
  }

  onModuleDestroy(): void {
    const server = this.server();
    if (!server) return;
    this.draining = true;
    // A connection accepted from now on would be served by a service that is stopping.
    if (server.listening) server.close();
    const sweep = () => {
      server.closeIdleConnections();
      const unusedSince = Date.now() - UNUSED_CONNECTION_MS;
      for (const [socket, acceptedAt] of this.connections) if (socket.bytesRead === 0 && acceptedAt <= unusedSince) socket.destroy();
    };
    sweep();
    this.timers.push(setInterval(sweep, SWEEP_MS).unref(), setTimeout(() => server.closeAllConnections(), this.env.SHUTDOWN_GRACE_MS).unref());
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }

  private server(): Server | undefined {
    return this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
  }
}
