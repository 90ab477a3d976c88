import Redis from 'ioredis';
import { createRedis, disconnectNow, settlesWhileReachable, settlesWithin } from '@app/redis';
import { FreezableProxy, nextEvent, PrivateRedis, startPrivateRedis } from '@app/testing';

/** The lowest REDIS_LIVENESS_TIMEOUT_MS allowed. */
const LIVENESS_MS = 1_000;
/** A refused Redis counts as lost at the first failed reconnect (~100 ms); a silent one within the liveness bound. */
const PROMPTLY_MS = 3_000;

/** Work whose end the test decides: what a shutdown waits for (an LLM call, a drain). */
function heldWork(): { promise: Promise<void>; finish: () => void } {
  let finish = () => undefined as void;
  const promise = new Promise<void>((resolve) => (finish = resolve));
  return { promise, finish };
}

// A shutdown waits on Redis only while Redis is reachable. Any dropped socket used to count as
// losing it: a blip, one drop whose reconnect succeeds at once, ended the wait as an outage does
// (the executor's SHUTDOWN_GRACE_MS, the stream consumer's drain, the sweeps). A private Redis
// behind a proxy: the proxy drops the connections while Redis stays up, or Redis itself goes away.
describe('settlesWhileReachable through a blip and through an outage (a private Redis behind a proxy)', () => {
  let redis: PrivateRedis;
  let proxy: FreezableProxy;
  const connections: Redis[] = [];
  const connect = async (url: string) => {
    const connection = createRedis(url, { name: 'blip-test', log: () => undefined }, LIVENESS_MS);
    connections.push(connection);
    await connection.ping();
    return connection;
  };

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const { hostname, port } = new URL(redis.url);
    proxy = new FreezableProxy({ host: hostname, port: Number(port) });
    await proxy.start();
  });

  afterAll(async () => {
    connections.forEach((connection) => disconnectNow(connection));
    await proxy?.stop();
    await redis?.stop();
  });

  it('given a blip during the wait (the connection drops once, Redis stays up), then it waits for the work and answers true', async () => {
    const connection = await connect(proxy.url);
    const work = heldWork();
    let answered = false;
    const outcome = settlesWhileReachable(connection, work.promise).finally(() => (answered = true));
    const back = nextEvent(connection, 'ready');

    proxy.dropConnections();
    await back;
    // Through the reconnect, as commands sent during it are: queued, then answered.
    await expect(connection.set('blip-test:after', '1')).resolves.toBe('OK');
    expect(answered).toBe(false);
    work.finish();

    await expect(outcome).resolves.toBe(true);
  });

  it('given a blip under way as the wait starts (dropped, reconnecting), then it waits for the work and answers true', async () => {
    const connection = await connect(proxy.url);
    const work = heldWork();
    const reconnecting = nextEvent(connection, 'reconnecting');
    proxy.dropConnections();
    await reconnecting;

    const outcome = settlesWhileReachable(connection, work.promise);
    await nextEvent(connection, 'ready');
    work.finish();

    await expect(outcome).resolves.toBe(true);
  });

  it('given the network to Redis goes silent during the wait, then it answers false within the liveness bound', async () => {
    const connection = await connect(proxy.url);
    const started = Date.now();

    proxy.freeze();
    const outcome = settlesWhileReachable(connection, heldWork().promise);

    expect(await settlesWithin(outcome, LIVENESS_MS + PROMPTLY_MS)).toBe(true);
    await expect(outcome).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(LIVENESS_MS + PROMPTLY_MS);
    disconnectNow(connection);
    proxy.thaw();
  });

  it('given Redis goes away during the wait (connections refused), then it answers false promptly', async () => {
    const connection = await connect(redis.url);
    const outcome = settlesWhileReachable(connection, heldWork().promise);
    const started = Date.now();

    await redis.halt();

    expect(await settlesWithin(outcome, PROMPTLY_MS)).toBe(true);
    await expect(outcome).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(PROMPTLY_MS);
  });
});
