import { Server } from 'node:http';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { loadEnvironment } from '@app/config';
import { RedisConnection } from '@app/redis';
import { createServiceApp, REDIS } from '@app/runtime';
import { FreezableProxy, nextEvent, PrivateRedis, startPrivateRedis, TEST_DATA_KEY_SECRET, testKeyPrefix, waitFor } from '@app/testing';
import { intakeService } from '../../apps/intake/src/intake.definition';
import { ANSWER_WITHIN_MS, promptly } from '../support/answered-promptly';

const OPERATOR_KEY = 'test-operator-secret-0001';
const MISSION = { type: 'maintenance', title: 'AC broken in room 204', description: 'The AC blows warm air.', priority: 'high', payload: { room: '204' } };
const UNREACHABLE = { statusCode: 503, error: 'Service Unavailable', message: 'the store (Redis) is unreachable; retry later', details: [] };
/** The lowest REDIS_LIVENESS_TIMEOUT_MS allowed, so that the test waits about a second. */
const LIVENESS_MS = 1_000;

// The network between the intake and Redis goes silent (a proxy that stops forwarding without
// closing a socket): before REDIS_LIVENESS_TIMEOUT_MS the connection stayed ready, so the API
// sent its commands into the void and hung; the awaited reconnect never came.
describe('the intake while its network to Redis is silent or Redis goes away (a frozen proxy before a private redis-server)', () => {
  let redis: PrivateRedis;
  let halted = false;
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
    // The app closes its connection with a QUIT, which would wait for a halted server.
    if (halted) await redis.restart();
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

  const as = (call: request.Test) => call.set('Authorization', `Bearer ${OPERATOR_KEY}`);
  const create = (server: Server, idempotencyKey: string) => as(request(server).post('/api/missions').set('Idempotency-Key', idempotencyKey)).send(MISSION);

  /**
   * Once Redis answers again: a create's retry with its Idempotency-Key is a 201, or a 200 when the
   * first got through after all (its commands are resent after the reconnect); either way the key
   * names one mission.
   */
  async function retriedOnce(server: Server, idempotencyKey: string): Promise<void> {
    const retry = await create(server, idempotencyKey);
    expect([200, 201]).toContain(retry.status);
    const again = await create(server, idempotencyKey).expect(200);
    expect(again.body.id).toBe(retry.body.id);
  }

  // Before, requests under way when Redis went waited for the whole outage while a proxy still took
  // connections for it, and over a minute where none did: ioredis resends a command sent before the
  // drop once Redis is back, and its retry limit fails only the commands queued since.
  it('given Redis goes away while requests wait on it, then each is a 503 once the outage outlasts the bound; once it is back, a retried create is one mission', async () => {
    const server = intake.getHttpServer();
    const mission = await as(request(server).post('/api/missions')).send(MISSION).expect(201);
    // Held by the frozen proxy, the requests' commands are under way when Redis goes.
    proxy.freeze();
    const arrived = new Promise<void>((resolve) => {
      let count = 0;
      server.on('request', function arriving() {
        if (++count < 2) return;
        server.off('request', arriving);
        resolve();
      });
    });
    const started = Date.now();
    const answers = Promise.all([create(server, 'halted-create'), as(request(server).get(`/api/missions/${mission.body.id}`))].map((call) => promptly(call)));
    await arrived;
    await redis.halt();
    halted = true;
    proxy.thaw();

    for (const refused of await answers) {
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.body).toEqual(UNREACHABLE);
    }
    // The bound after the drop, not a 503 at once: a restart quicker than that goes unnoticed.
    expect(Date.now() - started).toBeGreaterThanOrEqual(LIVENESS_MS);

    await redis.restart();
    halted = false;
    await waitFor(async () => (await request(server).get('/health/ready')).status === 200, { timeoutMs: 30_000, what: 'readiness 200 once Redis is back' });
    await as(request(server).get(`/api/missions/${mission.body.id}`)).expect(200);
    await retriedOnce(server, 'halted-create');
  }, 60_000);

  // Before, a request sent into the silent network waited out every reconnect, each as long as
  // ioredis's connect timeout: over five minutes, for no answer.
  it('given requests sent while the network is silent, then each is a 503 within seconds, not a hang; once it is back, a retried create is one mission', async () => {
    const server = intake.getHttpServer();
    const mission = await as(request(server).post('/api/missions')).send(MISSION).expect(201);
    proxy.freeze();

    const [created, read] = await Promise.all([
      promptly(create(server, 'silent-create')),
      promptly(as(request(server).get(`/api/missions/${mission.body.id}`))),
    ]);
    for (const refused of [created, read]) {
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.body).toEqual(UNREACHABLE);
    }

    proxy.thaw();
    await waitFor(async () => (await request(server).get('/health/ready')).status === 200, {
      timeoutMs: 30_000,
      what: 'readiness 200 once the network is back',
    });
    await retriedOnce(server, 'silent-create');
  }, 60_000);
  // A request without a valid key waits on Redis to count its failure (AuthFailureThrottle). When
  // the outage's 503 answered it first, the count settling after the reconnect set the 401's
  // header on the finished response: the throw went unhandled and took the intake down.
  it('given a request with a wrong key counting its failure when the network goes silent, then it is a 503, and the intake carries on once the network is back', async () => {
    const server = intake.getHttpServer();
    const redisConnection = intake.get<RedisConnection>(REDIS);
    proxy.freeze();

    const refused = await promptly(request(server).get('/api/missions').set('X-API-Key', 'not-a-key-of-this-intake-0001'));
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual(UNREACHABLE);

    const back = nextEvent(redisConnection, 'ready');
    proxy.thaw();
    await back;
    await waitFor(async () => (await request(server).get('/health/ready')).status === 200, {
      timeoutMs: 30_000,
      what: 'readiness 200 once the network is back',
    });
    // The failure counted before the outage's end has settled by now (its command went first).
    await request(server).get('/api/missions').set('X-API-Key', 'not-a-key-of-this-intake-0002').expect(401);
    await as(request(server).get('/api/missions')).expect(200);
  }, 60_000);
});
