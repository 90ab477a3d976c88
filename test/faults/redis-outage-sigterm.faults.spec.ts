import {
  BUILD_TIMEOUT_MS,
  buildOnce,
  ExitInfo,
  ScenarioOnPrivateRedis,
  Service,
  SERVICES,
  sleep,
  startScenarioOnPrivateRedis,
  waitBusy,
  Workload,
} from './support';

/** Well under the launcher's 10 s after SIGTERM before it kills. */
const SHUTDOWN_LIMIT_MS = 5_000;

/**
 * Scenario: SIGTERM during a Redis outage. While missions run against a private redis-server, it
 * is shut down and, while it is away, every service gets SIGTERM with work in hand. Each must exit
 * 0 within 5 s instead of waiting on Redis until it is killed; once Redis and the services are
 * back, every acknowledged mission must still finish exactly once (what a service left unacked
 * is reclaimed, as after a crash).
 */
describe('fault: SIGTERM to every busy service while Redis is down, then restart', () => {
  let world: ScenarioOnPrivateRedis;
  const stops: { service: Service; exit: ExitInfo & { forced: boolean } }[] = [];

  beforeAll(async () => {
    buildOnce();
    world = await startScenarioOnPrivateRedis('outage-sigterm');
  }, BUILD_TIMEOUT_MS);

  afterAll(() => world?.close(), 60_000);

  it('given missions running, when Redis goes down and every service gets SIGTERM, then each exits 0 within 5 s and after a restart nothing is lost', async () => {
    const { redisServer, scenario, submitter } = world;
    scenario.sampleInvariants();
    const workload = new Workload(submitter, scenario.prefix, { total: 500, batchSize: 50, intervalMs: 600, tag: 'outage' }).start();
    await sleep(scenario.between(1_000, 2_000));
    await waitBusy(scenario.redis, scenario.keys, 'executor');

    await redisServer.shutdown();
    stops.push(
      ...(await Promise.all(
        SERVICES.map(async (service) => ({ service, exit: await scenario.processes.kill(service, 0, 'SIGTERM', SHUTDOWN_LIMIT_MS + 10_000) })),
      )),
    );
    for (const { service, exit } of stops) {
      scenario.note(
        `SIGTERM to ${service} with Redis down: exit code ${exit.code}, signal ${exit.signal}, after ${exit.ms} ms${exit.forced ? ' (had to SIGKILL)' : ''}`,
      );
    }
    await redisServer.start();
    for (const service of SERVICES) await scenario.processes.restart(service, 0);
    await workload.done;

    // A submission whose XADD failed may still have been written (the reply was lost): it may be in the log.
    const report = await scenario.outcome(workload.ackedIds, { timeoutMs: 120_000, expected: workload.expectedOf(), alsoInLog: workload.silentlyFailed });
    scenario.summarize(report, { stops: stops.map((s) => `${s.service}: code=${s.exit.code} signal=${s.exit.signal} ${s.exit.ms}ms`) });

    expect(report.violations).toEqual([]);
    expect(scenario.processes.crashes).toEqual([]);
    expect(
      stops.map((s) => ({ service: s.service, code: s.exit.code, signal: s.exit.signal, withinLimit: s.exit.ms < SHUTDOWN_LIMIT_MS, forced: s.exit.forced })),
    ).toEqual(SERVICES.map((service) => ({ service, code: 0, signal: null, withinLimit: true, forced: false })));
  }, 300_000);
});
