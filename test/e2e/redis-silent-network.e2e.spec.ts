import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { loadEnvironment } from '@app/config';
import { RedisConnection } from '@app/redis';
import { createServiceApp, REDIS } from '@app/runtime';
import { FreezableProxy, nextEvent, PrivateRedis, startPrivateRedis, TEST_DATA_KEY_SECRET, testKeyPrefix, waitFor } from '@app/testing';
import { intakeService } from '../../apps/intake/src/intake.definition';
import { ANSWER_WITHIN_MS, promptly } from '../support/answered-promptly';

const OPERATOR_KEY = 'test-operator-secret-0001';
/** The lowest REDIS_LIVENESS_TIMEOUT_MS allowed, so that the test waits about a second. */
const LIVENESS_MS = 1_000;

// The network between the intake and Redis goes silent (a proxy that stops forwarding without
// closing a socket): before REDIS_LIVENESS_TIMEOUT_MS the connection stayed ready, so the API
// sent its commands into the void and hung; the awaited reconnect never came.
describe('the intake while its network to Redis is silent (a frozen proxy before a private redis-server)', () => {
  let redis: PrivateRedis;
  let proxy: FreezableProxy;
  let intake: INestApplication;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const { hostname, port } = new URL(redis.url);
    proxy = new FreezableProxy({ host: hostname, port: Number(port) });
    await proxy.start();
    const environment = loadEnvironment({
      REDIS_URL: proxy.url,
      REDIS_LIVENESS_TIMEOUT_MS: String(LIVENESS_MS),
      KEY_PREFIX: testKeyPrefix('redis-silent'),
      LOG_LEVEL: 'fatal',
      LOG_FORMAT: 'json',
      STREAM_BLOCK_MS: '200',
      API_KEYS: `operator:${OPERATOR_KEY}:operator`,
      DATA_KEY_SECRET: TEST_DATA_KEY_SECRET,
    });
    intake = await createServiceApp(intakeService, environment);
    await intake.init();
    await request(intake.getHttpServer()).get('/health/ready').expect(200);
  });

  afterAll(async () => {
    proxy?.thaw();
    await intake?.close();
    await proxy?.stop();
    // The private server goes with its keys.
    await redis?.stop();
  });

  it('given the network goes silent, then the connection reconnects within the bound, the API and readiness answer 503 at once; once it is back, 200', async () => {
    const server = intake.getHttpServer();
    const redisConnection = intake.get<RedisConnection>(REDIS);
    const noticed = nextEvent(redisConnection, 'reconnecting');
    proxy.freeze();
    const frozenAt = Date.now();

    await noticed;
    // An idle connection's PING comes every half bound, and is answered within one.
    expect(Date.now() - frozenAt).toBeLessThan(LIVENESS_MS * 1.5 + ANSWER_WITHIN_MS);
    const stats = await promptly(request(server).get('/api/missions/queue/stats').set('Authorization', `Bearer ${OPERATOR_KEY}`));
    expect(stats.status).toBe(503);
    expect(stats.headers['retry-after']).toBe('5');
    expect(stats.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'the store (Redis) is unreachable; retry later', details: [] });
    const ready = await promptly(request(server).get('/health/ready'));
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'not ready: redis unreachable', details: [] });

    proxy.thaw();
    await waitFor(async () => (await request(server).get('/health/ready')).status === 200, {
      timeoutMs: 30_000,
      what: 'readiness 200 once the network is back',
    });
    await request(server).get('/api/missions/queue/stats').set('Authorization', `Bearer ${OPERATOR_KEY}`).expect(200);
  }, 60_000);
});
