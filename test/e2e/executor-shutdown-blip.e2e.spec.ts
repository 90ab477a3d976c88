import { INestApplication } from '@nestjs/common';
import { RedisConnection } from '@app/redis';
import { REDIS } from '@app/runtime';
import { aCreateInput, FakeChatCompletionsServer, FreezableProxy, redisUrl } from '@app/testing';
import { ExecutionService } from '../../apps/executor/src/execution/execution.service';
import { validReply } from '../faults/support/llm-replies';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

const leakingTap = aCreateInput({ type: 'maintenance', title: 'Leaking tap in room 118', payload: { room: '118', issue: 'leaking tap' } });

/** What the executor's shutdown waits for, as SHUTDOWN_GRACE_MS runs (a private method, watched here). */
interface GraceWait {
  executionsFinished(timeoutMs: number): Promise<void>;
}

/** The executor's executions in progress and the missions whose LLM call runs (private, read here). */
interface InFlight {
  executing: number;
  running: Map<string, AbortController>;
}

// The executor's grace waits on Redis only while Redis is reachable. Any dropped socket used to
// count as losing it: a blip during the grace (one drop, the reconnect at once) aborted the calls
// in progress, each a failed attempt towards the retry limit. A proxy in front of the shared Redis,
// for the executor's connections only, drops them once while Redis stays up. The LLM is a loopback
// chat-completions server holding its reply until the test releases it, after the drop: the call
// is still in progress when the connections drop, however slow the machine.
describe('executor shutdown with an LLM call in progress through a Redis blip (four services, real Redis)', () => {
  const target = new URL(redisUrl());
  const proxy = new FreezableProxy({ host: target.hostname, port: Number(target.port || 6379) });
  const llm = new FakeChatCompletionsServer();
  let callArrived = () => undefined as void;
  const called = new Promise<void>((resolve) => (callArrived = resolve));
  let releaseReply = () => undefined as void;
  const replyReleased = new Promise<void>((resolve) => (releaseReply = resolve));
  // A rubric-passing reply, sent once the test releases it.
  llm.fallback = (request) => {
    callArrived();
    return { ...validReply(request), until: replyReleased };
  };
  let system: InProcessSystem;

  beforeAll(async () => {
    await proxy.start();
    const baseUrl = await llm.start();
    system = await startInProcessSystem(
      'e2e-executor-blip',
      {},
      {
        executor: {
          REDIS_URL: proxy.url,
          LLM_PROVIDER: 'openai',
          LLM_BASE_URL: baseUrl,
          LLM_MODEL: 'fake-model',
          LLM_API_KEY: 'sk-test',
          LLM_MAX_RETRIES: '0',
          SHUTDOWN_GRACE_MS: '8000',
        },
      },
    );
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    releaseReply();
    await system?.close();
    await llm.stop();
    await proxy.stop();
  });

  it('given a blip while the executor waits out its grace, then the call is not aborted: the attempt succeeds', async () => {
    const executor = system.apps.find((app: INestApplication) => (app.get<RedisConnection>(REDIS).options as { port?: number }).port === proxy.port);
    if (!executor) throw new Error('no executor behind the proxy');
    const executorRedis = executor.get<RedisConnection>(REDIS);
    const inFlight = executor.get(ExecutionService) as unknown as InFlight;
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
    await called;

    const stopped = system.stopService('executor');
    await waiting;
    // The call is still in progress as the connections drop: its reply is held until after the drop.
    expect({ executing: inFlight.executing, calling: inFlight.running.get(created.body.id)?.signal.aborted }).toEqual({ executing: 1, calling: false });
    let reconnected = false;
    const ready = new Promise<void>((resolve) =>
      executorRedis.once('ready', () => {
        reconnected = true;
        resolve();
      }),
    );
    proxy.dropConnections();
    // The reply comes once the connection is back (or the executor stopped without it, as it used to).
    await Promise.race([ready, stopped]);
    releaseReply();
    await stopped;

    // A blip: the executor's connection was back before its call ended.
    expect(reconnected).toBe(true);

    const done = await system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered', 'queued']);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
    const types = (await system.store.history(created.body.id)).map((event) => event.type);
    expect(types).not.toContain('MissionFailed');
  });
});
