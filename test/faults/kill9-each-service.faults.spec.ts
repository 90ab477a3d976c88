import { BUILD_TIMEOUT_MS, buildOnce, ExitInfo, Scenario, Service, SERVICES, sleep, waitBusy, Workload } from './support';

/**
 * Scenario 1: one instance of each service; during a 2,000-mission workload each service in turn
 * is killed with SIGKILL at a random moment and started again. Its unacked messages must be
 * reclaimed by the new process, expired leases must come back, and every mission must finish
 * exactly once.
 */
describe('fault: kill -9 of each service in turn, then restart', () => {
  const scenario = new Scenario('kill9-each');
  const kills: { service: Service; atMs: number; downMs: number; exit: ExitInfo; busy: number }[] = [];

  beforeAll(async () => {
    buildOnce();
    await scenario.processes.start();
  }, BUILD_TIMEOUT_MS);

  afterAll(() => scenario.close(), 30_000);

  it('given 2,000 missions, when each service is killed -9 mid-run and restarted, then every mission finishes exactly once', async () => {
    scenario.sampleInvariants();
    const workload = new Workload(scenario.redis, scenario.prefix, { total: 2_000, batchSize: 50, intervalMs: 800, tag: 'kill9' }).start();

    for (const service of SERVICES) {
      await sleep(scenario.between(1_000, 3_000));
      // A random moment, but one where the victim has work in hand (running missions for the executor, …).
      const busy = await waitBusy(scenario.redis, scenario.keys, service);
      const atMs = Date.now() - workload.startedAt;
      const exit = await scenario.processes.kill(service, 0, 'SIGKILL');
      const downMs = scenario.between(300, 1_500);
      await sleep(downMs);
      await scenario.processes.restart(service, 0);
      kills.push({ service, atMs, downMs, exit, busy });
      scenario.note(`killed ${service} at ${atMs} ms (busy with ${busy}), down ${downMs} ms, restarted`);
    }
    await workload.done;
    expect(workload.errors).toEqual([]);
    expect(workload.silentlyFailed).toEqual([]);

    const report = await scenario.outcome(workload.ackedIds, { timeoutMs: 120_000, expected: workload.expectedOf() });
    scenario.summarize(report, { kills: kills.map((k) => `${k.service}@${k.atMs}ms`) });

    expect(kills.map((k) => [k.service, k.exit.signal])).toEqual(SERVICES.map((s) => [s, 'SIGKILL']));
    expect(kills.every((k) => k.busy > 0)).toBe(true);
    expect(workload.ackedCount).toBe(2_000);
    expect(report.violations).toEqual([]);
    expect(scenario.processes.crashes).toEqual([]);
  }, 300_000);
});
