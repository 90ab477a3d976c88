import { BUILD_TIMEOUT_MS, buildOnce, ExitInfo, Scenario, Service, SERVICES, sleep, waitBusy, Workload } from './support';

const SHUTDOWN_LIMIT_MS = 10_000;

/**
 * Scenario 7: graceful shutdown. While 2,000 missions run, each service in turn gets SIGTERM at a
 * moment it has work in hand. It must drain (finish or hand back what it holds), exit with code 0
 * within 10 s, and after it is started again every mission must still finish exactly once.
 */
describe('fault: SIGTERM to each busy service, then restart', () => {
  const scenario = new Scenario('sigterm');
  const stops: { service: Service; busy: number; exit: ExitInfo & { forced: boolean } }[] = [];

  beforeAll(async () => {
    buildOnce();
    await scenario.processes.start();
  }, BUILD_TIMEOUT_MS);

  afterAll(() => scenario.close(), 30_000);

  it('given 2,000 missions, when each busy service gets SIGTERM, then it exits 0 within 10 s and after a restart nothing is lost', async () => {
    scenario.sampleInvariants();
    const workload = new Workload(scenario.redis, scenario.prefix, { total: 2_000, batchSize: 50, intervalMs: 800, tag: 'term' }).start();
    for (const service of SERVICES) {
      await sleep(scenario.between(1_000, 3_000));
      const busy = await waitBusy(scenario.redis, scenario.keys, service);
      const exit = await scenario.processes.kill(service, 0, 'SIGTERM', SHUTDOWN_LIMIT_MS + 10_000);
      stops.push({ service, busy, exit });
      scenario.note(
        `SIGTERM to ${service} (busy with ${busy}): exit code ${exit.code}, signal ${exit.signal}, after ${exit.ms} ms${exit.forced ? ' (had to SIGKILL)' : ''}`,
      );
      await scenario.processes.restart(service, 0);
    }
    await workload.done;
    const report = await scenario.outcome(workload.ackedIds, { timeoutMs: 120_000, expected: workload.expectedOf() });
    scenario.summarize(report, { stops: stops.map((s) => `${s.service}: code=${s.exit.code} signal=${s.exit.signal} ${s.exit.ms}ms`) });
    const shutdownErrors = scenario.processes.problemLines('error');
    if (shutdownErrors.length) scenario.note(`error lines:\n  ${shutdownErrors.slice(-20).join('\n  ')}`);

    expect(workload.ackedCount).toBe(2_000);
    expect(report.violations).toEqual([]);
    expect(scenario.processes.crashes).toEqual([]);
    expect(stops.every((s) => s.busy > 0)).toBe(true);
    expect(
      stops.map((s) => ({ service: s.service, code: s.exit.code, signal: s.exit.signal, withinLimit: s.exit.ms < SHUTDOWN_LIMIT_MS, forced: s.exit.forced })),
    ).toEqual(SERVICES.map((service) => ({ service, code: 0, signal: null, withinLimit: true, forced: false })));
  }, 300_000);
});
