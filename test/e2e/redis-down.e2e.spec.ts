import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { loadEnvironment } from '@app/config';
import { findFreePort } from '@app/redis';
import { createServiceApp } from '@app/runtime';
import { TEST_DATA_KEY_SECRET, testKeyPrefix, waitFor } from '@app/testing';
import { intakeService } from '../../apps/intake/src/intake.definition';
import { promptly } from '../support/answered-promptly';

const OPERATOR_KEY = 'test-operator-secret-0001';
const MISSION = { type: 'maintenance', title: 'AC broken in room 204', description: 'The AC blows warm air.', priority: 'high', payload: { room: '204' } };

/** A redis-server of this test's own, without persistence, so it can be shut down under the intake. */
class DisposableRedis {
  private child: ChildProcess | null = null;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when the server logs that it accepts connections. */
  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', ''], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.child = child;
    const lines = createInterface({ input: child.stdout! });
    try {
      await new Promise<void>((resolve, reject) => {
        lines.on('line', (line) => line.includes('Ready to accept connections') && resolve());
        child.once('exit', (code) => reject(new Error(`redis-server on ${this.port} exited (${code}) before it was ready`)));
      });
    } finally {
      lines.close();
    }
    child.stdout!.resume();
  }

  /** SIGTERM (a SHUTDOWN, as `redis-cli shutdown` does), and waits for the process to end. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
}

describe('the intake while Redis is down (a private redis-server, shut down and started again)', () => {
  let redis: DisposableRedis;
  let intake: INestApplication;

  beforeAll(async () => {
    redis = new DisposableRedis(await findFreePort());
    await redis.start();
    const environment = loadEnvironment({
      REDIS_URL: redis.url,
      KEY_PREFIX: testKeyPrefix('redis-down'),
      LOG_LEVEL: 'fatal',
      LOG_FORMAT: 'json',
      STREAM_BLOCK_MS: '200',
      API_KEYS: `operator:${OPERATOR_KEY}:operator`,
      DATA_KEY_SECRET: TEST_DATA_KEY_SECRET,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_ONLY_ALLOWED_HOSTS: 'true',
    });
    intake = await createServiceApp(intakeService, environment);
    await intake.init();
    await request(intake.getHttpServer()).get('/health/ready').expect(200);
  });

  afterAll(async () => {
    // The private server goes with its keys; it runs (again) while the app closes, which would otherwise wait on it.
    if (redis && !redis.running) await redis.start();
    await intake?.close();
    await redis?.stop();
  });

  it('given Redis is shut down, then readiness, /metrics and the API answer promptly; once it is back, readiness is 200 again', async () => {
    const server = intake.getHttpServer();
    await redis.stop();

    // Each answer is awaited (not a sleep): a hang shows as the request's own timeout.
    const ready = await promptly(request(server).get('/health/ready'));
    expect(ready.status).toBe(503);
    // The intake's errors all have one shape (ErrorBody); the other services answer Terminus's own.
    expect(ready.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'not ready: redis unreachable', details: [] });
    expect(ready.text).not.toMatch(/MaxRetriesPerRequest|ECONNREFUSED|Error:/);

    const metrics = await promptly(request(server).get('/metrics'));
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^brain_redis_up\{service="intake"\} 0$/m);
    expect(metrics.text).toMatch(/^process_cpu_seconds_total/m);

    const stats = await promptly(request(server).get('/api/missions/queue/stats').set('Authorization', `Bearer ${OPERATOR_KEY}`));
    expect(stats.status).toBe(503);
    expect(stats.headers['retry-after']).toBe('5');
    expect(stats.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'the store (Redis) is unreachable; retry later', details: [] });

    await redis.start();
    await waitFor(async () => (await request(server).get('/health/ready')).status === 200, { timeoutMs: 30_000, what: 'readiness 200 after Redis is back' });
    const back = await request(server).get('/metrics').expect(200);
    expect(back.text).toMatch(/^brain_redis_up\{service="intake"\} 1$/m);
    await request(server).get('/api/missions/queue/stats').set('Authorization', `Bearer ${OPERATOR_KEY}`).expect(200);
  }, 120_000);

  it('given Redis is shut down, then a request with a wrong key or none is a 503 at once, not a 401 after the reconnects; a create too; once it is back, they are answered', async () => {
    const server = intake.getHttpServer();
    const create = () => request(server).post('/api/missions').set('Authorization', `Bearer ${OPERATOR_KEY}`).set('Idempotency-Key', 'redis-down-create');
    await redis.stop();

    // A failed authentication is counted in Redis: before, these waited out ioredis's ~30 s of
    // reconnects for their 401, longer than promptly() allows.
    const unreachable = { statusCode: 503, error: 'Service Unavailable', message: 'the store (Redis) is unreachable; retry later', details: [] };
    for (const call of [
      request(server).get('/api/missions').set('Authorization', 'Bearer not-a-key-of-this-intake-000001'),
      request(server).get('/api/missions'),
      create().send(MISSION),
    ]) {
      const refused = await promptly(call);
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.body).toEqual(unreachable);
    }

    await redis.start();
    await waitFor(async () => (await request(server).get('/health/ready')).status === 200, { timeoutMs: 30_000, what: 'readiness 200 after Redis is back' });
    await request(server).get('/api/missions').set('Authorization', 'Bearer not-a-key-of-this-intake-000001').expect(401);
    await create().send(MISSION).expect(201);
  }, 120_000);
});
