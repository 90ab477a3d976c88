import { nextDueAfter } from '../../apps/intake/src/schedules/schedule-timing';
import { BUILD_TIMEOUT_MS, buildOnce, Scenario, sleep } from './support';

const SCHEDULES = 30;
const CRON = '* * * * *';
const TIME_ZONE = 'Europe/Berlin';
const OPERATOR_KEY = 'faults-operator-secret-0001';

type ScheduleEventBody = { type: string; data: { dueAt?: string; missionId?: string } };

/** Due times of CRON for the schedule `scheduleId` after `since` up to `until`. */
function dueTimes(scheduleId: string, since: Date, until: Date): string[] {
  const times: string[] = [];
  for (let due = nextDueAfter(CRON, TIME_ZONE, since, scheduleId); due && due <= until; due = nextDueAfter(CRON, TIME_ZONE, due, scheduleId))
    times.push(due.toISOString());
  return times;
}

/**
 * Scenario: recurring schedules fire while both intakes are killed with SIGKILL (in the middle of
 * a sweep: some missions created, some ScheduleFired appended, some neither), then restarted;
 * the next due time is fired by the two intakes at once. Every schedule must have fired every
 * due time since it was created exactly once, each with a mission of its own, and every one of
 * those missions must finish.
 */
describe('fault: both intakes killed -9 while schedules fire', () => {
  const scenario = new Scenario('schedules', { instances: { intake: 2 } });

  beforeAll(async () => {
    buildOnce();
    await scenario.processes.start();
  }, BUILD_TIMEOUT_MS);

  afterAll(() => scenario.close(), 30_000);

  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`http://127.0.0.1:${scenario.processes.port('intake', 0)}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it('given 30 schedules firing every minute, when both intakes die mid-sweep and restart, then each due time made exactly one mission', async () => {
    const created: { id: string; createdAt: string }[] = [];
    for (let index = 0; index < SCHEDULES; index += 1) {
      const template = {
        type: 'maintenance',
        title: `Minute inspection ${index}`,
        description: 'Check the boiler pressure gauge and write it into the log.',
        priority: 'normal',
        payload: { location: 'the boiler room', equipment: 'boiler', reportedBy: 'inspection schedule' },
      };
      const { status, body } = await api('/api/schedules', { method: 'POST', body: JSON.stringify({ cron: CRON, timeZone: TIME_ZONE, template }) });
      expect(status).toBe(201);
      created.push(body as { id: string; createdAt: string });
    }
    const lastCreated = new Date(Math.max(...created.map((schedule) => Date.parse(schedule.createdAt))));
    // CRON has no H field, so every schedule's due times are the same: any id serves.
    const firstDue = nextDueAfter(CRON, TIME_ZONE, lastCreated, created[0].id) as Date;

    // Both intakes die while the sweep after the first due time runs (sweeps come every 500 ms).
    await sleep(Math.max(0, firstDue.getTime() - Date.now()) + scenario.between(50, 700));
    for (const index of [0, 1]) await scenario.processes.kill('intake', index, 'SIGKILL');
    scenario.note(`killed both intakes ${Date.now() - firstDue.getTime()} ms after the due time ${firstDue.toISOString()}`);
    await sleep(scenario.between(500, 3_000));
    for (const index of [0, 1]) await scenario.processes.restart('intake', index);

    // The next due time is fired by both intakes at once.
    const secondDue = nextDueAfter(CRON, TIME_ZONE, firstDue, created[0].id) as Date;
    await sleep(Math.max(0, secondDue.getTime() - Date.now()) + 5_000);
    const checkedUntil = new Date(Date.now() - 2_000);

    const missionIds: string[] = [];
    const problems: string[] = [];
    for (const schedule of created) {
      const { body } = await api(`/api/schedules/${schedule.id}/events`);
      const fired = (body as ScheduleEventBody[]).filter((event) => event.type === 'ScheduleFired');
      const expected = dueTimes(schedule.id, new Date(schedule.createdAt), checkedUntil);
      const actual = fired.map((event) => event.data.dueAt ?? '');
      if (JSON.stringify(actual) !== JSON.stringify(expected))
        problems.push(`schedule ${schedule.id} fired ${actual.join(',')}, expected ${expected.join(',')}`);
      missionIds.push(...fired.map((event) => event.data.missionId ?? ''));
    }
    expect(problems).toEqual([]);
    expect(new Set(missionIds).size).toBe(missionIds.length);
    expect(missionIds.length).toBeGreaterThanOrEqual(2 * SCHEDULES);

    const report = await scenario.outcome(missionIds, { timeoutMs: 120_000 });
    scenario.summarize(report, { schedules: SCHEDULES, firings: missionIds.length });
    expect(report.violations).toEqual([]);
    expect(report.stats.byStatus).toEqual({ succeeded: missionIds.length });
    expect(scenario.processes.crashes).toEqual([]);
  }, 300_000);
});
