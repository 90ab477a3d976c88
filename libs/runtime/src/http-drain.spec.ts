import { once } from 'node:events';
import { Agent, get, IncomingMessage, Server } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Controller, DynamicModule, Get, INestApplication, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadEnvironment } from '@app/config';
import { waitFor } from '@app/testing';
import { HttpDrain } from './http-drain';
import { ENVIRONMENT } from './tokens';

/** SHUTDOWN_GRACE_MS here: how long a response that never ends holds the close. */
const GRACE_MS = 300;
/** A grace longer than any close that does not wait for it. */
const LONG_GRACE_MS = 8_000;
/** Far past the grace: on the code before HttpDrain the close was still waiting then. */
const CLOSE_BOUND_MS = 10_000;

/** Requests the probe holds: each is answered when the test says so, or never. */
class Held {
  arrived = 0;
  released = 0;
  private releases: (() => void)[] = [];

  hold(): Promise<string> {
    this.arrived += 1;
    return new Promise((resolve) => this.releases.push(() => resolve('released')));
  }

  releaseAll(): void {
    for (const release of this.releases.splice(0)) {
      this.released += 1;
      release();
    }
  }
}

const held = new Held();

@Controller()
class ProbeController {
  @Get('ping')
  ping(): string {
    return 'pong';
  }

  /** Answered when the test releases it: a request in progress when the close begins. */
  @Get('held')
  held(): Promise<string> {
    return held.hold();
  }

  /** A response that never ends (as a live stream nobody ended would be). */
  @Get('forever')
  forever(): Promise<never> {
    held.arrived += 1;
    return new Promise<never>(() => undefined);
  }
}

/** Records how many held requests had been answered when the shutdown hooks (which close Redis in a service) ran. */
@Injectable()
class ShutdownProbe implements OnApplicationShutdown {
  releasedBeforeShutdownHooks: number | undefined;

  onApplicationShutdown(): void {
    this.releasedBeforeShutdownHooks = held.released;
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {
  static withGrace(graceMs: number): DynamicModule {
    return {
      module: ProbeModule,
      providers: [{ provide: ENVIRONMENT, useValue: loadEnvironment({ SHUTDOWN_GRACE_MS: String(graceMs) }) }, HttpDrain, ShutdownProbe],
    };
  }
}

interface Answer {
  status?: number;
  connection?: string;
  error?: string;
}

const ask = (base: string, path: string, agent: Agent): Promise<Answer> =>
  new Promise((resolve) => {
    get(`${base}${path}`, { agent }, (response: IncomingMessage) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode, connection: response.headers.connection }));
      response.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    }).on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });

/** The connections the app's server holds. */
const connectionCount = (app: INestApplication): Promise<number> =>
  new Promise((resolve, reject) => (app.getHttpServer() as Server).getConnections((error, count) => (error ? reject(error) : resolve(count))));

/** Resolves 'closed' when `closing` does, or 'still open' once CLOSE_BOUND_MS has passed. */
const closedWithinBound = (closing: Promise<void>) =>
  Promise.race([closing.then(() => 'closed' as const), delay(CLOSE_BOUND_MS, undefined, { ref: false }).then(() => 'still open' as const)]);

describe('HttpDrain: an HTTP server at shutdown', () => {
  let app: INestApplication;
  let base: string;
  let agent: Agent;

  const start = async (graceMs: number) => {
    app = await NestFactory.create(ProbeModule.withGrace(graceMs), { logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    // One keep-alive connection, as a browser's or an HTTP client's pool reuses it.
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    held.arrived = 0;
    held.released = 0;
  };

  /**
   * Starts the app, sends a request it holds, begins the close and, once the server no longer
   * listens, answers the request: its keep-alive connection was busy when the server closed, so not
   * among the idle connections closed then.
   */
  const closeDuringHeldRequest = async (graceMs: number): Promise<{ closing: Promise<void> }> => {
    await start(graceMs);
    const inProgress = ask(base, '/held', agent);
    await waitFor(async () => held.arrived === 1, { timeoutMs: 5_000, what: 'the held request to arrive' });
    const closing = app.close();
    await waitFor(async () => !app.getHttpServer().listening, { timeoutMs: 5_000, what: 'the server to stop listening' });
    held.releaseAll();
    expect(await inProgress).toMatchObject({ status: 200 });
    return { closing };
  };

  afterEach(async () => {
    jest.useRealTimers();
    agent.destroy();
    // A close that was cut short by a failing expectation ends here.
    app.getHttpServer().closeAllConnections();
    await app.close().catch(() => undefined);
  });

  it('given a client that polls over the keep-alive connection of a request in progress, when the app closes, then it closes while the client still polls', async () => {
    const { closing } = await closeDuringHeldRequest(GRACE_MS);

    const answers: Answer[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        answers.push(await ask(base, '/ping', agent));
        await delay(20);
      }
    })();
    // Before: each request came within HTTP_KEEP_ALIVE_TIMEOUT_MS of the last over the same connection, so it was never idle and the close never ended.
    const outcome = await closedWithinBound(closing);
    polling = false;
    await poller;
    expect(outcome).toBe('closed');
    // Each answered while draining said Connection: close, and the connection then went.
    expect(answers.filter((answer) => answer.status !== undefined)).toEqual(answers.filter((answer) => answer.status === 200 && answer.connection === 'close'));
  });

  it('given a response that never ends, when the app closes, then the connection is cut SHUTDOWN_GRACE_MS later and the close ends', async () => {
    await start(GRACE_MS);
    const hanging = ask(base, '/forever', agent);
    await waitFor(async () => held.arrived === 1, { timeoutMs: 5_000, what: 'the request to arrive' });

    const outcome = await closedWithinBound(app.close());
    expect(outcome).toBe('closed');
    expect(await hanging).toEqual({ error: 'ECONNRESET' });
  });

  it("given a connection that never sent a request (a browser's preconnect), when the app closes, then it is closed once it has sent nothing for a second, not cut at the grace's end", async () => {
    await start(LONG_GRACE_MS);
    const preconnect = connect((app.getHttpServer().address() as AddressInfo).port, '127.0.0.1');
    await once(preconnect, 'connect');
    await waitFor(async () => (await connectionCount(app)) === 1, {
      timeoutMs: 5_000,
      what: 'the server to hold the connection',
    });
    const cut = jest.spyOn(app.getHttpServer(), 'closeAllConnections');

    // Before: Node counts such a connection as a request under way, and close() stops the headers timeout that would end it.
    const outcome = await closedWithinBound(app.close());
    expect(outcome).toBe('closed');
    expect(cut).not.toHaveBeenCalled();
    // The server's side went: the client's ends too.
    await once(preconnect.resume(), 'close');
  });

  it('given a request in progress, when the app closes, then the shutdown hooks run only once it was answered', async () => {
    const { closing } = await closeDuringHeldRequest(LONG_GRACE_MS);
    await closing;
    // In a service those hooks close its Redis connection, which the response may still need.
    expect(app.get(ShutdownProbe).releasedBeforeShutdownHooks).toBe(1);
  });

  it('given a connection opened before the close whose request comes just after it began, then the request is answered, with Connection: close', async () => {
    await start(LONG_GRACE_MS);
    // The clock stands still: the connection stays younger than the second after which an unused one is closed, however slow the machine.
    jest.useFakeTimers({
      doNotFake: [
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'setImmediate',
        'clearImmediate',
        'nextTick',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
    });
    const socket = connect((app.getHttpServer().address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    const ended = once(socket, 'close');
    await waitFor(async () => (await connectionCount(app)) === 1, { timeoutMs: 5_000, what: 'the server to hold the connection' });
    const closing = app.close();
    await waitFor(async () => !app.getHttpServer().listening, { timeoutMs: 5_000, what: 'the server to stop listening' });

    let reply = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (reply += chunk));
    socket.write('GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    // Before: a connection that had read nothing when the drain began was destroyed at once, its request with it.
    await ended;
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(reply).toMatch(/\r\nConnection: close\r\n/i);
    await closing;
  });
});
