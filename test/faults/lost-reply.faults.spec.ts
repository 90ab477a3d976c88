import { redisUrl } from '@app/testing';
import { BUILD_TIMEOUT_MS, buildOnce, ReplyDroppingProxy, Scenario, Service, SERVICES, Workload } from './support';

/** The event whose append each proxy lets Redis execute and then hides the reply of. */
const TRIP_ON: Record<Service, { events: string[]; trips: number }> = {
  intake: { events: ['MissionCreated'], trips: 2 },
  orchestrator: { events: ['MissionAssigned'], trips: 2 },
  executor: { events: ['MissionStarted', 'MissionCompleted'], trips: 2 },
  evaluator: { events: ['MissionEvaluated'], trips: 2 },
};

/**
 * Scenario 8 (beyond the brief; it makes a finding of scenario 3 reproducible): a reply lost
 * after Redis executed the command. Each service reaches Redis through its own proxy, which lets
 * an append script (MissionCreated, MissionAssigned, MissionStarted/MissionCompleted,
 * MissionEvaluated) execute and then cuts the connection before the reply arrives. This is what
 * a Redis SHUTDOWN/crash or a network cut at the wrong moment does. ioredis reconnects and
 * resends the unanswered command, which then meets the state it has already written. Every
 * service must treat that as its own success (or retry), and every mission must still finish.
 */
describe('fault: a Redis reply lost after the command took effect', () => {
  const target = new URL(redisUrl());
  const proxies = Object.fromEntries(
    SERVICES.map((service) => [
      service,
      new ReplyDroppingProxy(
        { host: target.hostname, port: Number(target.port || 6379) },
        (sent) => TRIP_ON[service].events.find((event) => sent.includes(`"type":"${event}"`)) ?? null,
        TRIP_ON[service].trips,
      ),
    ]),
  ) as Record<Service, ReplyDroppingProxy>;
  let scenario: Scenario;

  beforeAll(async () => {
    buildOnce();
    for (const proxy of Object.values(proxies)) await proxy.start();
    scenario = new Scenario('lost-reply', {
      serviceEnv: Object.fromEntries(SERVICES.map((service) => [service, { REDIS_URL: proxies[service].url }])),
    });
    await scenario.processes.start();
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await scenario?.close();
    for (const proxy of Object.values(proxies)) await proxy.stop();
  }, 30_000);

  it('given 400 missions, when replies to appends of every service are lost after Redis executed them, then every mission still finishes exactly once', async () => {
    scenario.sampleInvariants();
    const workload = new Workload(scenario.redis, scenario.prefix, { total: 400, batchSize: 50, intervalMs: 300, tag: 'lost' }).start();
    await workload.done;
    const report = await scenario.outcome(workload.ackedIds, { timeoutMs: 30_000, expected: workload.expectedOf() });
    const trips = Object.fromEntries(SERVICES.map((service) => [service, proxies[service].trips.map((t) => t.label)]));
    scenario.summarize(report, { trips });

    // Every kind of append had at least one reply lost (how many depends on timing and cooldowns).
    const missedKinds = SERVICES.flatMap((service) =>
      TRIP_ON[service].events.filter((event) => !proxies[service].trips.some((t) => t.label === event)).map((event) => `${service}/${event}`),
    );
    expect(missedKinds).toEqual([]);
    expect(workload.ackedCount).toBe(400);
    expect(report.violations).toEqual([]);
    expect(scenario.processes.crashes).toEqual([]);
  }, 180_000);
});
