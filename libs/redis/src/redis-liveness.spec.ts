import { FreezableProxy, nextEvent, PrivateRedis, startPrivateRedis } from '@app/testing';
import { createRedisConnection, RedisConnection, RedisConnectionOptions } from './redis-connection';

/** Short, so that the test waits half a second, not the default's ten. */
const LIVENESS_MS = 500;

// The network between client and server goes silent (the proxy freezes): no socket closes, so
// nothing but the connection's own liveness bound can tell that Redis no longer answers. On a
// connection without one, the awaited `reconnecting` never comes and the test times out.
describe('a connection whose network to Redis goes silent', () => {
  let redis: PrivateRedis;
  let proxy: FreezableProxy;
  const opened: RedisConnection[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const { hostname, port } = new URL(redis.url);
    proxy = new FreezableProxy({ host: hostname, port: Number(port) });
    await proxy.start();
  });

  afterEach(() => {
    proxy.thaw();
    opened.splice(0).forEach((connection) => connection.disconnect());
  });

  afterAll(async () => {
    await proxy?.stop();
    await redis?.stop();
  });

  const open = async (options: Partial<RedisConnectionOptions> = {}) => {
    const logs: string[] = [];
    const connection = createRedisConnection(
      { REDIS_URL: proxy.url, REDIS_LIVENESS_TIMEOUT_MS: LIVENESS_MS },
      { name: 'liveness-test', log: (line) => logs.push(line), ...options },
    );
    opened.push(connection);
    await connection.ping();
    return { connection, logs };
  };

  it('given a command awaiting its reply, then the connection reconnects within the bound and the command is answered once the network is back', async () => {
    const { connection, logs } = await open();
    proxy.freeze();
    const frozenAt = Date.now();
    const reply = connection.incr('liveness:count');

    await nextEvent(connection, 'reconnecting');
    const noticedAfterMs = Date.now() - frozenAt;
    expect(noticedAfterMs).toBeGreaterThanOrEqual(LIVENESS_MS - 50);
    expect(noticedAfterMs).toBeLessThan(LIVENESS_MS + 2_000);
    expect(logs).toEqual([expect.stringMatching(/^Redis connection liveness-test failed: Socket timeout/)]);

    proxy.thaw();
    // The command was written before the freeze and resent after the reconnect: INCR is not safe
    // to resend, so it may count twice; the services' writes are (see docs/operations.md).
    await expect(reply).resolves.toBeGreaterThanOrEqual(1);
    if (connection.status !== 'ready') await nextEvent(connection, 'ready');
    expect(logs).toContain('Redis connection liveness-test is back');
  });

  it('given an idle connection, then its PING finds Redis gone within one and a half bounds', async () => {
    const { connection } = await open();
    proxy.freeze();
    const frozenAt = Date.now();

    await nextEvent(connection, 'reconnecting');
    expect(Date.now() - frozenAt).toBeLessThan(LIVENESS_MS * 1.5 + 2_000);
    // The reconnection made while the network is still silent connects (the kernel accepts it) and
    // gives up too, instead of waiting for its handshake's replies for good.
    await nextEvent(connection, 'reconnecting');

    proxy.thaw();
    await nextEvent(connection, 'ready');
  });

  it('given a blocking read longer than the bound, then it is no lost network, and a silence beyond the block time is', async () => {
    const blockMs = LIVENESS_MS * 2;
    const { connection } = await open({ blocking: true, blockMs });
    const closed = jest.fn();
    connection.on('close', closed);

    await expect(connection.xread('BLOCK', blockMs, 'STREAMS', 'liveness:empty', '$')).resolves.toBeNull();
    expect(closed).not.toHaveBeenCalled();

    proxy.freeze();
    const frozenAt = Date.now();
    const read = connection.xread('BLOCK', blockMs, 'STREAMS', 'liveness:empty', '$');
    await nextEvent(connection, 'reconnecting');
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(LIVENESS_MS + blockMs - 50);

    proxy.thaw();
    await expect(read).resolves.toBeNull();
  });
});
