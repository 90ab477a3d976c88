import Redis from 'ioredis';
import { MissionClient } from '@app/mission-client';
import {
  BUILD_TIMEOUT_MS,
  buildOnce,
  freePort,
  missionFor,
  PrivateRedis,
  readStatuses,
  Scenario,
  ScenarioOnPrivateRedis,
  SERVICES,
  sleep,
  startScenarioOnPrivateRedis,
  waitBusy,
  Workload,
} from './support';

/**
 * Scenario 3: the services run against a private redis-server (AOF, fsync on every write). Mid-run
 * it is shut down (SHUTDOWN) and later killed (SIGKILL), each time started again on the same port
 * and data directory. The services must reconnect by themselves (no restart), their consumer
 * groups must be there (or be recreated), and every submission whose XADD was acknowledged must
 * finish.
 */
describe('fault: Redis restarted mid-run (SHUTDOWN, then SIGKILL)', () => {
  let world: ScenarioOnPrivateRedis;
  let redisServer: PrivateRedis;
  let scenario: Scenario;
  let submitter: Redis;
  const outages: { how: string; atMs: number; downMs: number; recoveredMs: number }[] = [];

  beforeAll(async () => {
    buildOnce();
    world = await startScenarioOnPrivateRedis('redis-restart');
    ({ redisServer, scenario, submitter } = world);
  }, BUILD_TIMEOUT_MS);

  afterAll(() => world?.close(), 60_000);

  /** Waits until every service answers /health/ready again; returns how long that took. */
  async function allReady(timeoutMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      const ready = await Promise.all(SERVICES.map((s) => scenario.processes.isReady(s, 0)));
      if (ready.every(Boolean)) return Date.now() - started;
      if (Date.now() - started > timeoutMs)
        throw new Error(`services not ready ${timeoutMs} ms after the Redis restart: ${SERVICES.filter((_, i) => !ready[i]).join(', ')}`);
      await sleep(100);
    }
  }

  it('given 2,000 missions, when Redis goes down twice mid-run, then the services reconnect and every acknowledged mission finishes', async () => {
    scenario.sampleInvariants();
    const workload = new Workload(submitter, scenario.prefix, { total: 2_000, batchSize: 50, intervalMs: 600, tag: 'redis' }).start();

    for (const how of ['SHUTDOWN', 'SIGKILL'] as const) {
      await sleep(scenario.between(2_000, 4_000));
      await waitBusy(scenario.redis, scenario.keys, 'executor');
      const atMs = Date.now() - workload.startedAt;
      if (how === 'SHUTDOWN') await redisServer.shutdown();
      else await redisServer.kill();
      const downMs = scenario.between(1_000, 2_500);
      await sleep(downMs);
      await redisServer.start();
      const recoveredMs = await allReady(30_000);
      outages.push({ how, atMs, downMs, recoveredMs });
      scenario.note(`Redis ${how} at ${atMs} ms, down ${downMs} ms, all services ready ${recoveredMs} ms after the restart`);
    }
    await workload.done;

    // A submission whose XADD failed may still have been written (the reply was lost): it may be in the log.
    const report = await scenario.outcome(workload.ackedIds, {
      timeoutMs: 120_000,
      expected: workload.expectedOf(),
      alsoInLog: workload.silentlyFailed,
    });
    const unackedButCreated = (await readStatuses(scenario.redis, scenario.keys, workload.silentlyFailed)).filter((s) => s !== null).length;
    const reconnectLines = scenario.processes.countLines(/recreating it|Redis restarted/);
    scenario.summarize(report, {
      acked: workload.ackedCount,
      createManyErrors: workload.errors.length,
      firstCreateManyError: workload.errors[0]?.slice(0, 160),
      idsReturnedForFailedXadd: workload.silentlyFailed.length,
      hiddenErrors: workload.hiddenErrors,
      unackedButCreated,
      nogroupRecreations: reconnectLines,
      outages: outages.map((o) => `${o.how}@${o.atMs}ms/${o.downMs}ms`),
    });

    expect(outages).toHaveLength(2);
    expect(report.violations).toEqual([]);
    // No service had to be restarted: they reconnected on their own.
    expect(scenario.processes.crashes).toEqual([]);
    // A failed XADD must surface as an error of createMany (the workload then resubmits the batch
    // with the same idempotency keys), never as a returned mission id.
    expect(workload.silentlyFailed).toEqual([]);
    expect(workload.ackedCount).toBe(2_000);
  }, 300_000);

  it('given the consumer groups vanish (NOGROUP), then every service recreates its group by itself, old messages replay harmlessly and new missions finish', async () => {
    const eventsBefore = await scenario.redis.xlen(scenario.keys.partitions[0].log);
    const startedAt = Date.now();
    for (const service of SERVICES) await scenario.redis.xgroup('DESTROY', scenario.keys.partitions[0].stream(service), service);
    scenario.sampleInvariants();
    const workload = new Workload(submitter, scenario.prefix, { total: 100, batchSize: 50, tag: 'nogroup' }).start();
    await workload.done;
    const report = await scenario.outcome(workload.ackedIds, {
      timeoutMs: 90_000,
      expected: workload.expectedOf(),
      alsoInLog: await scenario.redis.zrange(scenario.keys.partitions[0].missionIndex, 0, -1),
    });
    const recreated = scenario.processes.countLines(/is gone \(Redis restarted\?\); recreating it/);
    scenario.summarize(report, {
      groupsRecreatedLogLines: recreated,
      newEvents: (await scenario.redis.xlen(scenario.keys.partitions[0].log)) - eventsBefore,
      ms: Date.now() - startedAt,
    });

    expect(recreated).toBeGreaterThanOrEqual(SERVICES.length);
    expect(report.violations).toEqual([]);
    expect(scenario.processes.crashes).toEqual([]);
  }, 120_000);

  it('given Redis is unreachable, when MissionClient.createMany submits, then it rejects instead of returning ids of missions that were never written', async () => {
    const deadPort = await freePort();
    const unreachable = new Redis(`redis://127.0.0.1:${deadPort}`, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    unreachable.on('error', () => undefined);
    try {
      const client = new MissionClient(unreachable, scenario.prefix);
      const outcome = await client.createMany([missionFor(0, 'unreachable').mission]).then(
        (ids) => ({ resolvedWith: ids }),
        (error: unknown) => ({ rejectedWith: error instanceof Error ? error.message : String(error) }),
      );
      scenario.note(`createMany against an unreachable Redis: ${JSON.stringify(outcome)}`);
      expect(outcome).toHaveProperty('rejectedWith');
    } finally {
      unreachable.disconnect();
    }
  }, 30_000);
});
