import { INestApplication } from '@nestjs/common';
import { RedisConnection } from '@app/redis';
import { REDIS } from '@app/runtime';
import { aCreateInput, FreezableProxy, redisUrl } from '@app/testing';
import { ExecutionService } from '../../apps/executor/src/execution/execution.service';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

const leakingTap = aCreateInput({ type: 'maintenance', title: 'Leaking tap in room 118', payload: { room: '118', issue: 'leaking tap' } });

/** What the executor's shutdown waits for, as SHUTDOWN_GRACE_MS runs (a private method, watched here). */
interface GraceWait {
  executionsFinished(timeoutMs: number): Promise<void>;
}

// The executor's grace waits on Redis only while Redis is reachable. Any dropped socket used to
// count as losing it: a blip during the grace (one drop, the reconnect at once) aborted the calls
// in progress, each a failed attempt towards the retry limit. A proxy in front of the shared Redis,
// for the executor's connections only, drops them once while Redis stays up.
describe('executor shutdown with an LLM call in progress through a Redis blip (four services, real Redis)', () => {
  const target = new URL(redisUrl());
  const proxy = new FreezableProxy({ host: target.hostname, port: Number(target.port || 6379) });
  let system: InProcessSystem;

  beforeAll(async () => {
    await proxy.start();
    system = await startInProcessSystem(
      'e2e-executor-blip',
      {},
      { executor: { REDIS_URL: proxy.url, MOCK_LLM_LATENCY_MS: '4000', SHUTDOWN_GRACE_MS: '8000' } },
    );
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await system?.close();
    await proxy.stop();
  });

  it('given a blip while the executor waits out its grace, then the call is not aborted: the attempt succeeds', async () => {
    const executor = system.apps.find((app: INestApplication) => (app.get<RedisConnection>(REDIS).options as { port?: number }).port === proxy.port);
    if (!executor) throw new Error('no executor behind the proxy');
    const executorRedis = executor.get<RedisConnection>(REDIS);
    const watched = ExecutionService.prototype as unknown as GraceWait;
    const finished = watched.executionsFinished;
    let graceStarted = () => undefined as void;
    const waiting = new Promise<void>((resolve) => (graceStarted = resolve));
    // The shutdown's wait on Redis starts in the same step as this call.
    jest.spyOn(watched, 'executionsFinished').mockImplementation(function (this: GraceWait, timeoutMs: number) {
      const wait = finished.call(this, timeoutMs);
      graceStarted();
      return wait;
    });
    const created = await system.api.post('/api/missions').send(leakingTap).expect(201);
    await system.waitForStatus(created.body.id, ['running']);

    const stopped = system.stopService('executor');
    await waiting;
    let reconnected = false;
    executorRedis.once('ready', () => (reconnected = true));
    proxy.dropConnections();
    await stopped;

    // A blip: the executor's connection was back long before its call ended.
    expect(reconnected).toBe(true);

    const done = await system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered', 'queued']);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
    const types = (await system.store.history(created.body.id)).map((event) => event.type);
    expect(types).not.toContain('MissionFailed');
  });
});
