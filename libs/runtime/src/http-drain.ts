import { Server, ServerResponse } from 'node:http';
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
 * From the first destroy hook (SIGTERM, app.close()): every response says `Connection: close`, a
 * connection is closed once it is idle, and whatever is still open SHUTDOWN_GRACE_MS later (a
 * response that does not end) is cut.
 */
@Injectable()
export class HttpDrain implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private draining = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

  /** True from the start of the shutdown: what would open a response that never ends refuses instead. */
  get isDraining(): boolean {
    return this.draining;
  }

  onModuleInit(): void {
    // First among the listeners: the header is set before the app writes anything.
    this.server()?.prependListener('request', (_request, response: ServerResponse) => {
      if (this.draining) response.setHeader('Connection', 'close');
    });
  }

  onModuleDestroy(): void {
    this.draining = true;
    const server = this.server();
    if (!server) return;
    server.closeIdleConnections();
    this.timers.push(
      setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS).unref(),
      setTimeout(() => server.closeAllConnections(), this.env.SHUTDOWN_GRACE_MS).unref(),
    );
  }

  onApplicationShutdown(): void {
    // The server has closed by now (Nest closes it between the destroy and the shutdown hooks).
    for (const timer of this.timers) clearTimeout(timer);
  }

  private server(): Server | undefined {
    return this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
  }
}
