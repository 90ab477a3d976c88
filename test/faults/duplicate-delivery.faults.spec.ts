import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { BUILD_TIMEOUT_MS, buildOnce, groupStates, readHistories, Scenario, Service, SERVICES, sleep, Workload } from './support';

/** Copies of up to `count` entries of a stream, re-added with identical fields; returns the patterns copied. */
async function duplicate(redis: Redis, keys: KeyLayout, service: Service, count: number, random: () => number, onlyProcessed: boolean): Promise<string[]> {
  const stream = keys.partitions[0].stream(service);
  let end = '+';
  const pendingIds = new Set<string>();
  if (onlyProcessed) {
    // Entries the group has delivered and acked: at or before last-delivered-id and not pending.
    const groups = ((await redis.xinfo('GROUPS', stream)) as unknown[][]).map((row) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i + 1 < row.length; i += 2) o[String(row[i])] = row[i + 1];
      return o;
    });
    end = String(groups.find((g) => g.name === service)?.['last-delivered-id'] ?? '0-0');
    for (const state of await groupStates(redis, keys)) if (state.service === service) for (const p of state.pending) pendingIds.add(p.id);
  }
  const recent = (await redis.xrevrange(stream, end, '-', 'COUNT', 600)) as [string, string[]][];
  const candidates = recent.filter(([id]) => !pendingIds.has(id));
  const chosen = candidates.filter(() => random() < count / Math.max(count, candidates.length)).slice(0, count);
  const pipeline = redis.pipeline();
  for (const [, fields] of chosen) pipeline.xadd(stream, '*', ...fields);
  await pipeline.exec();
  return chosen.map(([, fields]) => fields[fields.indexOf('pattern') + 1] ?? '?');
}

/**
 * Scenario 5: duplicate delivery. While 2,000 missions run, copies of real messages are XADDed
 * again to every service stream — both messages already processed and acked, and the newest ones
 * (possibly still in flight, so original and copy race) — and once more after every mission has
 * finished. Handlers must be idempotent: one MissionCreated per mission, versions 1..n, at most
 * one passing evaluation, never two live assignments, and no new events from late copies.
 */
describe('fault: duplicate delivery of real messages', () => {
  // Processed messages stay on the streams, so that they can be copied and delivered again.
  // The deadline sweep stays out: it rightly records MissionOverdue for the dead-lettered fixtures
  // (their deadlines are past), which would count as events appended after the end.
  const scenario = new Scenario('duplicates', { env: { STREAM_KEEP_ACKED: 'true', DEADLINE_CHECK_MS: '3600000' } });
  const copied: Record<string, number> = {};

  beforeAll(async () => {
    buildOnce();
    await scenario.processes.start();
  }, BUILD_TIMEOUT_MS);

  afterAll(() => scenario.close(), 30_000);

  async function copyRound(onlyProcessed: boolean, perService: number): Promise<void> {
    for (const service of SERVICES) {
      for (const pattern of await duplicate(scenario.redis, scenario.keys, service, perService, scenario.random, onlyProcessed)) {
        const key = `${service}/${pattern}`;
        copied[key] = (copied[key] ?? 0) + 1;
      }
    }
  }

  it('given 2,000 missions, when real messages are delivered again (processed ones, in-flight ones, and after the end), then no event is duplicated', async () => {
    scenario.sampleInvariants();
    const workload = new Workload(scenario.redis, scenario.prefix, { total: 2_000, batchSize: 50, intervalMs: 450, tag: 'dup' }).start();
    for (let round = 0; round < 6; round++) {
      await sleep(scenario.between(1_000, 2_500));
      await copyRound(round % 2 === 0, 120);
    }
    await workload.done;
    const report = await scenario.outcome(workload.ackedIds, { timeoutMs: 120_000, expected: workload.expectedOf() });
    const eventsAtEnd = await readHistories(scenario.redis, scenario.keys);
    const before = [...eventsAtEnd.values()].reduce((n, list) => n + list.length, 0);

    // Late copies of everything, after every mission has finished: nothing may change.
    await copyRound(true, 300);
    await sleep(3_000);
    const settled = await scenario.outcome(workload.ackedIds, { timeoutMs: 10_000, expected: workload.expectedOf() });
    const after = [...(await readHistories(scenario.redis, scenario.keys)).values()].reduce((n, list) => n + list.length, 0);
    scenario.summarize(report, { copied, eventsBeforeLateCopies: before, eventsAfterLateCopies: after });

    expect(Object.values(copied).reduce((a, b) => a + b, 0)).toBeGreaterThan(1_000);
    expect(workload.ackedCount).toBe(2_000);
    expect(report.violations).toEqual([]);
    expect(settled.violations).toEqual([]);
    expect(after).toBe(before);
    expect(scenario.processes.crashes).toEqual([]);
  }, 300_000);
});
