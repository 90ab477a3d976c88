import { Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Inject, Injectable, OnApplicationShutdown, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Environment } from '@app/config';
import { ENVIRONMENT } from './tokens';

/** While draining, how often the connections that have since become idle are closed. */
const IDLE_SWEEP_MS = 50;

/**
 * Closes the HTTP server's connections at shutdown instead of waiting on them for ever. Node's
 * server.close() (Nest's, after the destroy hooks) closes only the connections idle at that moment
 * and waits for the rest; one busy then stays open as a keep-alive connection and takes request
 * after request until HTTP_KEEP_ALIVE_TIMEOUT_MS passes without one. A console polling every few
 * seconds kept a stopping intake open, and a live stream opened again over such a connection
 * held it until it was killed.
 *
 * A connection that never sent a byte (a browser's preconnect, opened in case the page asks
 * something) is no idle one to Node: it counts as a request under way, which the headers timeout
 * would end, but close() stops that check. A console's tab held a stopping intake so for minutes.
 *
 * From the first destroy hook (SIGTERM, app.close()): every response says `Connection: close`, a
 * connection is closed once it is idle or if it never sent anything, and whatever is still open
 * SHUTDOWN_GRACE_MS later (a response that does not end) is cut.
 */
@Injectable()
export class HttpDrain implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private draining = false;
  private readonly timers: NodeJS.Timeout[] = [];
  /** The server's open connections: Node lists them only privately. */
  private readonly connections = new Set<Socket>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

  /** True from the start of the shutdown: what would open a response that never ends refuses instead. */
  get isDraining(): boolean {
    return this.draining;
  }

  onModuleInit(): void {
    const server = this.server();
    // First among the listeners: the header is set before the app writes anything.
    server?.prependListener('request', (_request, response: ServerResponse) => {
      if (this.draining) response.setHeader('Connection', 'close');
    });
    server?.on('connection', (socket: Socket) => {
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
    });
  }

  onModuleDestroy(): void {
    this.draining = true;
    const server = this.server();
    if (!server) return;
    const closeUnused = () => {
      server.closeIdleConnections();
      for (const socket of this.connections) if (socket.bytesRead === 0) socket.destroy();
    };
    closeUnused();
    this.timers.push(setInterval(closeUnused, IDLE_SWEEP_MS).unref(), setTimeout(() => server.closeAllConnections(), this.env.SHUTDOWN_GRACE_MS).unref());
  }

  onApplicationShutdown(): void {
    // The server has closed by now (Nest closes it between the destroy and the shutdown hooks).
    for (const timer of this.timers) clearTimeout(timer);
  }

  private server(): Server | undefined {
    return this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
  }
}
