import { PinoLogger } from 'nestjs-pino';
import { MissionPipeline } from '@app/pipeline';
import { MAX_PASSED_OVER_PER_RUN, SWEEP_BATCH } from '../../apps/intake/src/queue/due-missions-walk';
import { TimeWatchService } from '../../apps/intake/src/queue/time-watch.service';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';
import { queueInvariantViolations } from '../support/queue-invariant';
import { unreadableMissionsIn } from '../support/unreadable-missions';

const preArrival = (notBefore: string) => ({
  type: 'guest_support',
  title: 'Pre-arrival message for the Martins',
  description: 'Send the welcome message with parking directions the morning before arrival.',
  priority: 'normal',
  payload: { language: 'en', guest: { name: 'Ms. Martin' } },
  notBefore,
});

type HistoryEvent = { type: string; at: string; data: Record<string, unknown> };

describe('scheduled missions: later starts and retry backoff (four services, real Redis)', () => {
  let system: InProcessSystem;
  afterEach(async () => system?.close());

  it('given notBefore in an hour, then the mission waits scheduled and out of the ready queue until the watch finds it due, then runs', async () => {
    // The watch is driven by the test's clock; its own timer would find nothing due for an hour.
    system = await startInProcessSystem('e2e-scheduled', { SCHEDULE_CHECK_MS: '60000' });
    const notBefore = new Date(Date.now() + 3_600_000);
    const created = await system.api.post('/api/missions').send(preArrival(notBefore.toISOString())).expect(201);
    expect(created.body).toMatchObject({ status: 'scheduled', notBefore: notBefore.toISOString() });
    const watch = system.intake.get(TimeWatchService);

    expect(await watch.sweepDue(new Date(notBefore.getTime() - 1))).toBe(0);
    expect((await system.api.get('/api/missions/queue/stats').expect(200)).body).toMatchObject({ scheduled: 1, ready: 0 });
    expect(await queueInvariantViolations(system.redis, system.keys)).toEqual([]);
    expect(await watch.sweepDue(notBefore)).toBe(1);
    const done = await system.waitForStatus(created.body.id, ['succeeded']);

    expect(done).not.toHaveProperty('notBefore');
    const history = (await system.api.get(`/api/missions/${created.body.id}/events`).expect(200)).body as HistoryEvent[];
    expect(history.slice(0, 3)).toEqual([
      expect.objectContaining({ type: 'MissionCreated' }),
      expect.objectContaining({ type: 'MissionScheduled', data: expect.objectContaining({ reason: 'delayed', notBefore: notBefore.toISOString() }) }),
      expect.objectContaining({ type: 'MissionQueued', data: expect.objectContaining({ reason: 'due' }) }),
    ]);
    expect((await system.api.get('/api/missions/queue/stats').expect(200)).body).toMatchObject({ scheduled: 0 });
    await system.api
      .post('/api/missions')
      .send({ ...preArrival('tomorrow'), title: 'Bad time' })
      .expect(400);
  });

  it('given a mission scheduled again at a later time while a sweep looked at it, then the sweep leaves its new entry', async () => {
    system = await startInProcessSystem('e2e-scheduled-again', { SCHEDULE_CHECK_MS: '60000' });
    const notBefore = new Date(Date.now() + 3_600_000);
    const created = await system.api.post('/api/missions').send(preArrival(notBefore.toISOString())).expect(201);
    const delayed = system.keys.of(created.body.id).scheduled('delayed');
    const later = notBefore.getTime() + 3_600_000;
    const pipeline = system.intake.get(MissionPipeline);
    // As with two intakes: while this sweep looks at the mission, the other queued it, it failed at
    // once and was scheduled again, for later; this sweep's own decision is then a skip.
    const raced = jest.spyOn(pipeline, 'transition').mockImplementationOnce(async () => {
      await system.redis.zadd(delayed, later, created.body.id);
      return { kind: 'skipped', reason: 'queued by another intake meanwhile', mission: created.body };
    });

    expect(await system.intake.get(TimeWatchService).sweepDue(notBefore)).toBe(0);
    raced.mockRestore();
    // The sweep used to remove whatever entry the mission had: scheduled, and nothing would ever queue it.
    expect(Number(await system.redis.zscore(delayed, created.body.id))).toBe(later);
  });

  // One such mission threw out of the sweep, every SCHEDULE_CHECK_MS with a stack, and the missions
  // after it in its partition stayed scheduled past their time.
  it('given a scheduled mission whose state was changed past reading, then the due and deadline sweeps pass over it, named once, and act on the others', async () => {
    system = await startInProcessSystem('e2e-scheduled-unreadable', { SCHEDULE_CHECK_MS: '60000', DEADLINE_CHECK_MS: '3600000' });
    const notBefore = new Date(Date.now() + 3_600_000);
    const deadline = new Date(notBefore.getTime() + 3_600_000);
    const create = async (title: string) =>
      (
        await system.api
          .post('/api/missions')
          .send({ ...preArrival(notBefore.toISOString()), title, deadline: deadline.toISOString() })
          .expect(201)
      ).body as { id: string };
    const broken = await create('State changed by hand');
    const other = await create('Due after it');
    await system.redis.hset(system.keys.mission(broken.id), 's', 'not json');
    const warn = jest.spyOn(PinoLogger.prototype, 'warn');
    const watch = system.intake.get(TimeWatchService);
    const later = new Date(deadline.getTime() + 1_000);

    expect(await watch.sweepOverdue(later)).toBe(1);
    expect(await watch.sweepDue(later)).toBe(1);
    expect(await watch.sweepDue(later)).toBe(0);

    expect((await system.store.load(other.id))?.overdueAt).toBe(later.toISOString());
    expect((await system.store.load(other.id))?.status).not.toBe('scheduled');
    // Left where it waits, for a sweep once `replay rebuild` has mended it.
    expect(await system.redis.zscore(system.keys.of(broken.id).scheduled('delayed'), broken.id)).not.toBeNull();
    const named = warn.mock.calls.map(([message]) => String(message)).filter((message) => message.includes(broken.id));
    expect(named).toEqual([
      `the due and deadline sweep passes over mission ${broken.id}: its state in the read model (s) is not JSON, on every run until it is mended (run replay verify, then replay rebuild)`,
    ]);
    warn.mockRestore();
    await system.redis.del(system.keys.mission(broken.id));
  });

  // A sweep read the first 200 due entries of a set, passed over each, and stopped: the next read
  // the same 200, and a mission due behind them was never queued, nor found overdue.
  it('given more unreadable missions at the head of the sets than a sweep reads at once, then it pages past them and acts on the mission behind them, a run bounded', async () => {
    system = await startInProcessSystem('e2e-scheduled-unreadable-head', { SCHEDULE_CHECK_MS: '60000', DEADLINE_CHECK_MS: '3600000' });
    const notBefore = new Date(Date.now() + 3_600_000);
    const deadline = new Date(notBefore.getTime() + 3_600_000);
    const behind = (
      await system.api
        .post('/api/missions')
        .send({ ...preArrival(notBefore.toISOString()), title: 'Due behind damaged ones', deadline: deadline.toISOString() })
        .expect(201)
    ).body as { id: string };
    const partition = system.keys.partitionOf(behind.id);
    // Due first: more than a page of them before its deadline, more than a run passes over before its start.
    const brokenDeadlines = await unreadableMissionsIn(system.redis, system.keys, partition, SWEEP_BATCH + 50, (p) => [p.deadlines, p.scheduled('delayed')]);
    const brokenScheduled = await unreadableMissionsIn(system.redis, system.keys, partition, MAX_PASSED_OVER_PER_RUN - SWEEP_BATCH, (p) => [
      p.scheduled('delayed'),
    ]);
    const broken = [...brokenDeadlines, ...brokenScheduled];
    // Kept to look at instead of written: hundreds of lines.
    const warn = jest.spyOn(PinoLogger.prototype, 'warn').mockImplementation(() => undefined);
    const transition = jest.spyOn(system.intake.get(MissionPipeline), 'transition');
    const watch = system.intake.get(TimeWatchService);
    const later = new Date(deadline.getTime() + 1_000);
    try {
      expect(await watch.sweepOverdue(later)).toBe(1);
      expect((await system.store.load(behind.id))?.overdueAt).toBe(later.toISOString());

      // One run passes over at most MAX_PASSED_OVER_PER_RUN of them; the next goes on behind them.
      transition.mockClear();
      expect(await watch.sweepDue(later)).toBe(0);
      expect(transition).toHaveBeenCalledTimes(MAX_PASSED_OVER_PER_RUN);
      expect(await watch.sweepDue(later)).toBe(1);
      expect((await system.store.load(behind.id))?.status).not.toBe('scheduled');
      expect(await system.redis.zscore(system.keys.of(behind.id).scheduled('delayed'), behind.id)).toBeNull();
      // That run reached the end: the next starts from the earliest again, and names none a second time.
      const delayed = system.keys.of(behind.id).scheduled('delayed');
      const earliest = await system.redis.zrange(delayed, 0, MAX_PASSED_OVER_PER_RUN - 1);
      transition.mockClear();
      expect(await watch.sweepDue(later)).toBe(0);
      expect(transition.mock.calls.map(([missionId]) => missionId)).toEqual(earliest);

      const named = warn.mock.calls.map(([message]) => String(message)).filter((message) => message.startsWith('the due and deadline sweep passes over'));
      expect(named.sort()).toEqual(
        broken
          .map(
            (id) =>
              `the due and deadline sweep passes over mission ${id}: its state in the read model (s) is not JSON, on every run until it is mended (run replay verify, then replay rebuild)`,
          )
          .sort(),
      );
      // Left where they wait, for a sweep once `replay rebuild` has mended them.
      expect(await system.redis.zcard(delayed)).toBe(broken.length);
    } finally {
      warn.mockRestore();
      transition.mockRestore();
    }
  });

  it('given a first draft that fails its evaluation, then the retry waits its backoff visibly scheduled, and runs once due', async () => {
    system = await startInProcessSystem('e2e-backoff', { MOCK_LLM_FLAW_RATE: '1', RETRY_BASE_MS: '400', RETRY_MAX_MS: '400', SCHEDULE_CHECK_MS: '100' });
    const created = await system.api
      .post('/api/missions')
      .send({ ...preArrival(new Date(0).toISOString()), title: 'Late check-out question' })
      .expect(201);

    const done = await system.waitForStatus(created.body.id, ['succeeded']);

    expect(done.attempts).toBe(2);
    const history = (await system.api.get(`/api/missions/${created.body.id}/events`).expect(200)).body as HistoryEvent[];
    const scheduled = history.find((event) => event.type === 'MissionScheduled');
    expect(scheduled?.data).toMatchObject({ reason: 'retry', feedback: expect.any(String) });
    const due = history.find((event) => event.type === 'MissionQueued' && event.data.reason === 'due');
    // Not queued again before its time: the backoff was 200..400 ms after the failed verdict. The
    // verdict's clock is read before its append is stamped, so the bound is from the completion it judged.
    const completed = history.find((event) => event.type === 'MissionCompleted');
    expect(Date.parse(due?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(String(scheduled?.data.notBefore)));
    expect(Date.parse(String(scheduled?.data.notBefore)) - Date.parse(completed?.at ?? '')).toBeGreaterThanOrEqual(200);
  });
});
