import { INestApplication, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import request from 'supertest';
import { loadEnvironment } from '@app/config';
import { createServiceApp } from '@app/runtime';
import { PrivateRedis, startPrivateRedis, TEST_DATA_KEY_SECRET, testKeyPrefix } from '@app/testing';
import { intakeService } from '../../apps/intake/src/intake.definition';

const OPERATOR_KEY = 'test-operator-secret-0001';
const mission = { type: 'maintenance', title: 'AC broken in room 204', description: 'The AC blows warm air.', priority: 'high', payload: { room: '204' } };

describe('the intake while Redis is out of memory (a private redis-server whose maxmemory is reached)', () => {
  let redis: PrivateRedis;
  let admin: Redis;
  let intake: INestApplication;
  let startWarnings: string[] = [];

  beforeAll(async () => {
    // Its own server: a maxmemory on the shared one would refuse every other test's writes.
    redis = await startPrivateRedis();
    admin = new Redis(redis.url);
    const environment = loadEnvironment({
      REDIS_URL: redis.url,
      KEY_PREFIX: testKeyPrefix('redis-oom'),
      LOG_LEVEL: 'fatal',
      LOG_FORMAT: 'json',
      API_KEYS: `operator:${OPERATOR_KEY}:operator`,
      DATA_KEY_SECRET: TEST_DATA_KEY_SECRET,
    });
    // Started under an evicting policy, which its start warns of; the tests then run under noeviction.
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const warned = jest.spyOn(Logger.prototype, 'warn');
    try {
      intake = await createServiceApp(intakeService, environment);
      startWarnings = warned.mock.calls.map(([line]) => String(line));
    } finally {
      warned.mockRestore();
    }
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await intake.init();
    await request(intake.getHttpServer()).get('/health/ready').expect(200);
  });

  afterAll(async () => {
    await admin?.config('SET', 'maxmemory', '0');
    await intake?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  it('given a Redis whose maxmemory-policy evicts keys, then the start warns of it, naming the policy and the guide', () => {
    expect(startWarnings).toEqual([expect.stringMatching(/^Redis's maxmemory-policy is allkeys-lru: .*"Recommended Redis settings"/)]);
  });

  it('given maxmemory reached, then a create answers 503 with Retry-After and says why; once Redis has room again, 201', async () => {
    const server = intake.getHttpServer();
    const api = () => request(server).post('/api/missions').set('Authorization', `Bearer ${OPERATOR_KEY}`);
    // Well above any maxmemory the test sets, whatever the server holds besides.
    await admin.set('ballast', 'x'.repeat(2 * 1024 * 1024));
    await admin.config('SET', 'maxmemory', '1mb');

    const refused = await api().send(mission);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'the store (Redis) is out of memory; retry later', details: [] });
    // A read too: the rate limiter's own count is a write, refused before the route runs.
    const stats = await request(server).get('/api/missions/queue/stats').set('Authorization', `Bearer ${OPERATOR_KEY}`);
    expect(stats.status).toBe(503);
    expect(stats.body.message).toBe('the store (Redis) is out of memory; retry later');

    await admin.config('SET', 'maxmemory', '0');
    await api().send(mission).expect(201);
  }, 60_000);

  it('given maxmemory reached, then readiness is 503 and brain_redis_memory_full 1, where PING alone had them 200 and up; with room, 200 and 0', async () => {
    const server = intake.getHttpServer();
    await admin.set('ballast', 'x'.repeat(2 * 1024 * 1024));
    await admin.config('SET', 'maxmemory', '1mb');

    const ready = await request(server).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'not ready: redis out of memory (writes refused)', details: [] });
    const metrics = await request(server).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^brain_redis_up\{service="intake"\} 1$/m);
    expect(metrics.text).toMatch(/^brain_redis_memory_full\{service="intake"\} 1$/m);

    await admin.config('SET', 'maxmemory', '0');
    await request(server).get('/health/ready').expect(200);
    expect((await request(server).get('/metrics').expect(200)).text).toMatch(/^brain_redis_memory_full\{service="intake"\} 0$/m);
  }, 60_000);
});
