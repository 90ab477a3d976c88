import { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import request from 'supertest';
import { loadEnvironment } from '@app/config';
import { createServiceApp } from '@app/runtime';
import { PrivateRedis, startPrivateRedis, TEST_DATA_KEY_SECRET, testKeyPrefix } from '@app/testing';
import { intakeService } from '../../apps/intake/src/intake.definition';

const OPERATOR_KEY = 'test-operator-secret-0001';
const mission = { type: 'maintenance', title: 'AC broken in room 204', description: 'The AC blows warm air.', priority: 'high', payload: { room: '204' } };
/** A port nothing listens on: the server keeps trying to reach its master there, and stays a replica. */
const NO_MASTER_PORT = 1;

describe('the intake while its Redis is a replica (a private redis-server demoted, as during a failover)', () => {
  let redis: PrivateRedis;
  let admin: Redis;
  let intake: INestApplication;

  beforeAll(async () => {
    // Its own server: the shared one must keep taking every other test's writes.
    redis = await startPrivateRedis();
    admin = new Redis(redis.url);
    intake = await createServiceApp(
      intakeService,
      loadEnvironment({
        REDIS_URL: redis.url,
        KEY_PREFIX: testKeyPrefix('redis-read-only'),
        LOG_LEVEL: 'fatal',
        LOG_FORMAT: 'json',
        STREAM_BLOCK_MS: '200',
        API_KEYS: `operator:${OPERATOR_KEY}:operator`,
        DATA_KEY_SECRET: TEST_DATA_KEY_SECRET,
      }),
    );
    await intake.init();
  });

  afterAll(async () => {
    await admin?.call('REPLICAOF', 'NO', 'ONE');
    await intake?.close();
    admin?.disconnect();
    // The private server goes with its keys.
    await redis?.stop();
  });

  it('given writes refused with READONLY, then a create answers 503 with Retry-After and no internal error; once it is a master again, 201', async () => {
    const api = () => request(intake.getHttpServer()).post('/api/missions').set('Authorization', `Bearer ${OPERATOR_KEY}`);
    await admin.call('REPLICAOF', '127.0.0.1', String(NO_MASTER_PORT));

    // Before: a 500 `internal error`, as for a defect, though a retry in a moment succeeds.
    const refused = await api().send(mission);
    expect({ status: refused.status, retryAfter: refused.headers['retry-after'], body: refused.body }).toEqual({
      status: 503,
      retryAfter: '5',
      body: { statusCode: 503, error: 'Service Unavailable', message: 'the store (Redis) is unreachable; retry later', details: [] },
    });

    await admin.call('REPLICAOF', 'NO', 'ONE');
    await api().send(mission).expect(201);
  });
});
