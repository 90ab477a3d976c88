import { Controller, Get, INestApplication, Post } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ThrottlerModule } from '@nestjs/throttler';
import Redis from 'ioredis';
import request from 'supertest';
import { deleteKeysByPrefix, testKeyPrefix, testRedis } from '@app/testing';
import { ApiKey } from '../auth/api-key';
import { ApiKeyStore } from '../auth/api-key-store';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { RequiresRole } from '../auth/requires-role.decorator';
import { ErrorBodyFilter } from '../http/error-body.filter';
import { ApiKeyThrottlerGuard } from './api-key-throttler.guard';
import { RedisThrottlerStorage } from './redis-throttler-storage';
import { throttlerOptions } from './throttler-options';

const LIMIT = 3;
const ALICE: ApiKey = { name: 'alice', secret: 'alice-secret-0123456789', role: 'submitter' };
const BOB: ApiKey = { name: 'bob', secret: 'bob-secret-0123456789ab', role: 'submitter' };

@Controller('api/things')
class ThingsController {
  @Get()
  list(): string[] {
    return [];
  }

  @Post()
  @RequiresRole('submitter')
  create(): { created: true } {
    return { created: true };
  }
}

@Controller()
class OpenController {
  @Get('health')
  health(): { status: string } {
    return { status: 'ok' };
  }
}

describe('API rate limiting (real Redis)', () => {
  const admin = testRedis();
  const prefixes: string[] = [];
  const apps: INestApplication[] = [];
  const connections: Redis[] = [];

  /** One gateway instance: its own Nest app and Redis connection, like a separate process. */
  async function gateway(prefix: string): Promise<INestApplication> {
    const redis = testRedis();
    connections.push(redis);
    const moduleRef = await Test.createTestingModule({
      imports: [ThrottlerModule.forRootAsync({ useFactory: () => throttlerOptions(LIMIT, new RedisThrottlerStorage(redis, prefix)) })],
      controllers: [ThingsController, OpenController],
      providers: [
        { provide: ApiKeyStore, useValue: new ApiKeyStore([ALICE, BOB]) },
        // Order matters: the throttler counts by the caller that ApiKeyGuard attaches.
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_GUARD, useClass: ApiKeyThrottlerGuard },
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new ErrorBodyFilter());
    await app.init();
    apps.push(app);
    return app;
  }

  function freshPrefix(): string {
    const prefix = testKeyPrefix('rate-limit');
    prefixes.push(prefix);
    return prefix;
  }

  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const redis of connections) await redis.quit();
    for (const prefix of prefixes) await deleteKeysByPrefix(admin, prefix);
    await admin.quit();
  });

  it('given 3 requests a minute, then the 4th with the same key is a 429 with Retry-After in the error shape', async () => {
    const app = await gateway(freshPrefix());
    const server = app.getHttpServer();
    const first = await request(server).get('/api/things').set('X-API-Key', ALICE.secret).expect(200);
    expect(first.headers['x-ratelimit-limit']).toBe(String(LIMIT));
    expect(first.headers['x-ratelimit-remaining']).toBe(String(LIMIT - 1));
    // The budget is per key across the whole API, not per route.
    await request(server).post('/api/things').set('X-API-Key', ALICE.secret).expect(201);
    await request(server).get('/api/things').set('Authorization', `Bearer ${ALICE.secret}`).expect(200);

    const limited = await request(server).get('/api/things').set('X-API-Key', ALICE.secret).expect(429);
    expect(limited.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `rate limit exceeded: at most ${LIMIT} requests per minute per API key`,
      details: [],
    });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('given one key over its limit, then another key is unaffected and routes outside /api are never limited', async () => {
    const app = await gateway(freshPrefix());
    const server = app.getHttpServer();
    for (let i = 0; i < LIMIT; i++) await request(server).get('/api/things').set('X-API-Key', ALICE.secret).expect(200);
    await request(server).get('/api/things').set('X-API-Key', ALICE.secret).expect(429);

    for (let i = 0; i < LIMIT; i++) await request(server).get('/api/things').set('X-API-Key', BOB.secret).expect(200);
    for (let i = 0; i < LIMIT + 2; i++) await request(server).get('/health').expect(200);
  });

  it("given two gateway instances on one Redis prefix, then they share each key's count", async () => {
    const prefix = freshPrefix();
    const a = (await gateway(prefix)).getHttpServer();
    const b = (await gateway(prefix)).getHttpServer();
    await request(a).get('/api/things').set('X-API-Key', BOB.secret).expect(200);
    await request(a).get('/api/things').set('X-API-Key', BOB.secret).expect(200);
    await request(b).get('/api/things').set('X-API-Key', BOB.secret).expect(200);
    const limited = await request(b).get('/api/things').set('X-API-Key', BOB.secret).expect(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(await admin.get(`${prefix}ratelimit:default:key:bob`)).toBe(String(LIMIT + 1));
  });

  it('given requests with no valid key, then they are refused by auth before they spend any budget', async () => {
    const prefix = freshPrefix();
    const server = (await gateway(prefix)).getHttpServer();
    for (let i = 0; i < LIMIT + 1; i++) await request(server).get('/api/things').set('X-API-Key', 'wrong-secret-0123456789').expect(401);
    await request(server).get('/api/things').set('X-API-Key', ALICE.secret).expect(200);
  });
});
