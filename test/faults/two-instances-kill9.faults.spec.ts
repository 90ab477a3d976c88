import { BUILD_TIMEOUT_MS, buildOnce, ExitInfo, groupStates, Scenario, Service, SERVICES, sleep, waitBusy, Workload } from './support';

/**
 * Scenario 2: two instances of every service share the work; mid-run one instance of each is
 * killed with SIGKILL and not restarted. The survivors must take over the dead consumers'
 * pending messages (XAUTOCLAIM after STREAM_CLAIM_IDLE_MS), two orchestrators must never assign
 * one mission twice or overfill an agent, and every mission must finish exactly once.
 */
describe('fault: two instances of every service, one of each killed -9 mid-run', () => {
  const scenario = new Scenario('two-instances', { instances: { intake: 2, orchestrator: 2, executor: 2, evaluator: 2 } });
  const kills: { service: Service; atMs: number; busy: number; exit: ExitInfo }[] = [];

  beforeAll(async () => {
    buildOnce();
    await scenario.processes.start();
  }, BUILD_TIMEOUT_MS);

  afterAll(() => scenario.close(), 30_000);

  it('given 2,000 missions on two instances per service, when one instance of each dies, then the survivors finish every mission exactly once', async () => {
    scenario.sampleInvariants();
    const workload = new Workload(scenario.redis, scenario.prefix, { total: 2_000, batchSize: 50, intervalMs: 500, tag: 'two' }).start();

    await sleep(scenario.between(2_000, 5_000));
    for (const service of SERVICES) {
      const busy = await waitBusy(scenario.redis, scenario.keys, service);
      const atMs = Date.now() - workload.startedAt;
      const exit = await scenario.processes.kill(service, 1, 'SIGKILL');
      kills.push({ service, atMs, busy, exit });
      scenario.note(`killed ${service}#1 at ${atMs} ms (busy with ${busy})`);
      await sleep(scenario.between(200, 1_500));
    }
    // The dead consumers' messages are still pending under their names right after the kills.
    const orphaned = (await groupStates(scenario.redis, scenario.keys)).map((g) => `${g.service}:${g.pending.length}`);
    scenario.note(`pending right after the kills: ${orphaned.join(' ')}`);

    await workload.done;
    expect(workload.errors).toEqual([]);
    expect(workload.silentlyFailed).toEqual([]);
    const report = await scenario.outcome(workload.ackedIds, { timeoutMs: 120_000, expected: workload.expectedOf() });
    scenario.summarize(report, { kills: kills.map((k) => `${k.service}#1@${k.atMs}ms`) });

    expect(kills.map((k) => [k.service, k.exit.signal])).toEqual(SERVICES.map((s) => [s, 'SIGKILL']));
    expect(workload.ackedCount).toBe(2_000);
    expect(report.violations).toEqual([]);
    expect(scenario.processes.crashes).toEqual([]);
    // The survivors are still healthy.
    for (const service of SERVICES) expect(await scenario.processes.isReady(service, 0)).toBe(true);
  }, 300_000);
});
