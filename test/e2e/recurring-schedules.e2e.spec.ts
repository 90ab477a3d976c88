import request from 'supertest';
import { RejectionCode } from '@app/messages';
import { idempotencyDeduplicationKey, MissionCreateDto, missionIdFor, missionIdForKey } from '@app/mission';
import { intakeService } from '../../apps/intake/src/intake.definition';
import { MissionCreateRefusedError } from '../../apps/intake/src/missions/mission-create-refused.error';
import { MissionIntakeService } from '../../apps/intake/src/missions/mission-intake.service';
import { ScheduleFiringService, scheduleScope } from '../../apps/intake/src/schedules/schedule-firing.service';
import { ScheduleRegistry } from '../../apps/intake/src/schedules/schedule-registry';
import { nextDueAfter } from '../../apps/intake/src/schedules/schedule-timing';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

const inspection: MissionCreateDto = {
  type: 'maintenance',
  title: 'Monthly elevator inspection',
  description: 'Check the elevator log, the emergency phone and the door sensors; report anything that needs the service company.',
  priority: 'normal',
  payload: { asset: 'elevator-1', room: 'lobby' },
};
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MINUTE = 60_000;

type ScheduleEventBody = { type: string; actor: string; data: Record<string, unknown> };

/** Due times of the schedule after `since` up to `until`, as the test's own count. */
function dueTimes(cron: string, timeZone: string, scheduleId: string, since: Date, until: Date): Date[] {
  const times: Date[] = [];
  for (let due = nextDueAfter(cron, timeZone, since, scheduleId); due && due <= until; due = nextDueAfter(cron, timeZone, due, scheduleId)) times.push(due);
  return times;
}

describe('recurring missions: schedules with cron and time zone (four services, real Redis)', () => {
  let system: InProcessSystem;
  let firing: ScheduleFiringService;
  beforeAll(async () => {
    // Sweeps are driven by the test's clock (`now`); the services' own timer stays out of the way.
    system = await startInProcessSystem('e2e-schedules', { SCHEDULE_CATCH_UP_MS: String(3 * DAY) }, { intake: { SCHEDULE_CHECK_MS: '60000' } });
    firing = system.intake.get(ScheduleFiringService);
  });
  afterAll(async () => system.close());

  const create = (body: object) => system.api.post('/api/schedules').send(body);
  const missionsOf = async (scheduleId: string) => {
    const events = (await system.api.get(`/api/schedules/${scheduleId}/events`).expect(200)).body as ScheduleEventBody[];
    return events.filter((event) => event.type === 'ScheduleFired').map((event) => event.data.missionId as string);
  };

  it('given bad input, then a clear 4xx and nothing is stored', async () => {
    const valid = { cron: '0 6 1 * *', timeZone: 'Europe/Berlin', template: inspection };
    const refused = [
      [{ ...valid, cron: '0 25 * * *' }, 'cron', /not a valid expression/],
      [{ ...valid, cron: '* * * * * *' }, 'cron', /five fields/],
      // Refused whatever id the schedule would get (it used to hang on the id: the 29th or the 30th).
      [{ ...valid, cron: '0 0 H 2 *' }, 'cron', /29th to the 31st.*H\(1-28\)/],
      // An H range beyond the field was clamped by cron-parser: 201.
      [{ ...valid, cron: '0 H(0-30) * * *' }, 'cron', /not a valid expression: hour H\(0-30\) reaches beyond 0-23/],
      [{ ...valid, timeZone: 'Europe/Berlim' }, 'timeZone', /not an IANA time zone/],
      [{ ...valid, template: { ...inspection, priority: 'urgent' } }, 'template.priority', /priority must be one of/],
      [{ ...valid, template: { ...inspection, extra: 1 } }, 'template.extra', /should not exist/],
      [{ ...valid, template: { ...inspection, deadline: '2030-01-01T00:00:00Z' } }, 'template.deadline', /absolute time/],
      // Said as POST /api/missions says them, once: the four rules a missing title breaks were all listed (one twice).
      [{ ...valid, template: { ...inspection, title: undefined } }, 'template.title', /^template\.title is required$/],
      [{ ...valid, template: { ...inspection, title: null } }, 'template.title', /^template\.title is required$/],
      [{ ...valid, template: { ...inspection, title: 123 } }, 'template.title', /^title must be a string$/],
      [{ ...valid, catchUpMs: -1 }, 'catchUpMs', /catchUpMs must not be less than 0/],
      // A template is stored in plain: it used to bring a guest's data back with every firing after the guest's erasure.
      [
        { ...valid, template: { ...inspection, payload: { ...inspection.payload, guest: { id: 4711, name: 'Anna Schmidt' } } } },
        'template',
        /may not hold guest data: payload\.guest\.id, payload\.guest\.name$/,
      ],
      [{ ...valid, template: { ...inspection, subjects: ['guest:4711'] } }, 'template', /may not hold guest data: subjects, description$/],
      // A guest that is no object was no personal field, so the template held the name in plain.
      [{ ...valid, template: { ...inspection, payload: { ...inspection.payload, guest: 'Rita' } } }, 'template.payload', /^payload\.guest must be an object/],
      // A known key of the wrong kind: every firing made a mission whose value was ignored (no safety tier).
      [
        { ...valid, template: { ...inspection, payload: { ...inspection.payload, safetyIssue: 'true' } } },
        'template.payload',
        /^payload\.safetyIssue must be a boolean \(true or false\), not the string "true": /,
      ],
      [
        { ...valid, template: { ...inspection, type: 'guest_support', description: 'Ask Ms. Martin about her stay.' } },
        'template',
        /may not hold guest data: description$/,
      ],
    ] as const;
    for (const [body, field, problem] of refused) {
      const response = await create(body).expect(400);
      expect(response.body.details).toContainEqual({ field, problems: [expect.stringMatching(problem)] });
    }
    await create({ ...valid, template: 'inspect' }).expect(400);
    await request(system.intake.getHttpServer()).post('/api/schedules').set('Authorization', `Bearer ${TEST_KEYS.submitter}`).send(valid).expect(403);
    await request(system.intake.getHttpServer()).get('/api/schedules').set('Authorization', `Bearer ${TEST_KEYS.reader}`).expect(403);
    await system.api.get('/api/schedules/not-an-id').expect(400);
    expect((await system.api.get('/api/schedules').expect(200)).body).toEqual([]);
  });

  it('given a template whose skills no agent has, then the create is the 422 of POST /api/missions and stores nothing', async () => {
    const template = { ...inspection, title: 'Ice rink resurfacing', requiredSkills: ['ice_rink'] };
    const refusal = 'no registered agent has the skill ice_rink: nobody could take this mission';
    expect((await system.api.post('/api/missions').send(template).expect(422)).body.message).toBe(refusal);

    // It used to be a 201, and every firing was then refused and skipped.
    const refused = await create({ cron: '0 6 * * *', timeZone: 'UTC', template }).expect(422);
    expect(refused.body).toMatchObject({ statusCode: 422, message: refusal });
    expect((await system.api.get('/api/schedules').expect(200)).body).toEqual([]);
  });

  it('given a template with deadline and notBefore null, then they count as left out, as in a create', async () => {
    const created = await create({ cron: '0 6 * * *', timeZone: 'UTC', template: { ...inspection, deadline: null, notBefore: null } }).expect(201);
    expect(created.body.template).not.toHaveProperty('deadline');
    expect(created.body.template).not.toHaveProperty('notBefore');
    await system.api.delete(`/api/schedules/${created.body.id}`).expect(200);
  });

  it('when an operator creates a schedule, then each due time creates exactly one mission, and a delete stops it', async () => {
    const created = (await create({ cron: '0 6 1 * *', timeZone: 'Europe/Berlin', template: inspection }).expect(201)).body;
    const firstDue = nextDueAfter('0 6 1 * *', 'Europe/Berlin', new Date(created.createdAt), created.id) as Date;
    expect(created).toMatchObject({
      createdBy: 'operator',
      version: 1,
      fired: 0,
      skipped: 0,
      lastDueAt: null,
      catchUpMs: null,
      nextDueAt: firstDue.toISOString(),
    });
    expect(firstDue.toISOString()).toMatch(/T0[45]:00:00.000Z$/);
    expect((await system.api.get('/api/schedules').expect(200)).body).toEqual([created]);

    expect(await firing.sweep(new Date(firstDue.getTime() - 1))).toEqual({ fired: 0, skipped: 0 });
    expect(await firing.sweep(new Date(firstDue.getTime() + MINUTE))).toEqual({ fired: 1, skipped: 0 });
    expect(await firing.sweep(new Date(firstDue.getTime() + 2 * MINUTE))).toEqual({ fired: 0, skipped: 0 });
    const metrics = (await system.api.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^brain_schedule_due_times_total\{[^}]*outcome="fired"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^brain_schedules\{[^}]*\} 1$/m);

    const [missionId] = await missionsOf(created.id);
    const mission = await system.waitForStatus(missionId, ['succeeded']);
    expect(mission).toMatchObject({ title: inspection.title, type: 'maintenance' });
    const history = (await system.api.get(`/api/missions/${missionId}/events`).expect(200)).body as ScheduleEventBody[];
    expect(history[0]).toMatchObject({ type: 'MissionCreated', actor: 'operator' });
    const after = (await system.api.get(`/api/schedules/${created.id}`).expect(200)).body;
    expect(after).toMatchObject({ version: 2, fired: 1, lastDueAt: firstDue.toISOString(), lastMissionId: missionId });
    expect(Date.parse(after.nextDueAt)).toBeGreaterThan(firstDue.getTime() + 27 * DAY);

    const deleted = (await system.api.delete(`/api/schedules/${created.id}`).expect(200)).body;
    expect(deleted).toMatchObject({ deletedAt: expect.any(String), nextDueAt: null, version: 3 });
    await system.api.get(`/api/schedules/${created.id}`).expect(404);
    await system.api.delete(`/api/schedules/${created.id}`).expect(404);
    expect(await firing.sweep(new Date(Date.parse(after.nextDueAt) + MINUTE))).toEqual({ fired: 0, skipped: 0 });
    const events = (await system.api.get(`/api/schedules/${created.id}/events`).expect(200)).body as ScheduleEventBody[];
    expect(events.map((event) => [event.type, event.actor])).toEqual([
      ['ScheduleCreated', 'operator'],
      ['ScheduleFired', 'intake:schedule'],
      ['ScheduleDeleted', 'operator'],
    ]);
  });

  it.each([
    ['', false],
    [', and another DELETE that withdrew the key first got a 409', true],
  ])('given a DELETE answered after a firing read the schedule and before it created the mission%s, then no mission is created', async (_, twice) => {
    const template = { ...inspection, title: 'Weekly extinguisher check' };
    const created = (await create({ cron: '0 8 * * 1', timeZone: 'Europe/Berlin', template }).expect(201)).body;
    const due = nextDueAfter('0 8 * * 1', 'Europe/Berlin', new Date(created.createdAt), created.id) as Date;
    const intake = system.intake.get(MissionIntakeService);
    const createMission = intake.create.bind(intake);
    const registry = system.intake.get(ScheduleRegistry);
    const deleteSchedule = registry.delete.bind(registry);
    // The racing order: the firing has read the schedule and decided on the due time; the DELETE
    // runs to its answer; only then does the firing create the due time's mission. Twice: a first
    // DELETE (a client's retry, say) withdraws the key, the answered one withdraws it too and
    // appends first, and the first one's append is the 409.
    const racing = jest.spyOn(intake, 'create').mockImplementationOnce(async (...args) => {
      if (twice) {
        const answered = jest.spyOn(registry, 'delete').mockImplementationOnce(async (...deleteArgs) => {
          await system.api.delete(`/api/schedules/${created.id}`).expect(200);
          return deleteSchedule(...deleteArgs);
        });
        try {
          await system.api.delete(`/api/schedules/${created.id}`).expect(409);
        } finally {
          answered.mockRestore();
        }
      } else {
        await system.api.delete(`/api/schedules/${created.id}`).expect(200);
      }
      return createMission(...args);
    });
    try {
      expect(await firing.sweep(new Date(due.getTime() + MINUTE))).toEqual({ fired: 0, skipped: 0 });
    } finally {
      racing.mockRestore();
    }

    // It used to be created, and was in no schedule's events: its ScheduleFired came after ScheduleDeleted and was refused.
    // Twice, a 409 that took its withdrawal back would free the key that the answered DELETE relies on.
    await system.api.get(`/api/missions/${missionIdFor(scheduleScope(created.id), template, due.toISOString())}`).expect(404);
    const events = (await system.api.get(`/api/schedules/${created.id}/events`).expect(200)).body as ScheduleEventBody[];
    expect(events.map((event) => event.type)).toEqual(['ScheduleCreated', 'ScheduleDeleted']);
  });

  it("given a DELETE answered after a firing created the mission and before its ScheduleFired, then the mission is in the schedule's events", async () => {
    const template = { ...inspection, title: 'Weekly emergency light check' };
    const created = (await create({ cron: '0 9 * * 2', timeZone: 'Europe/Berlin', template }).expect(201)).body;
    const due = nextDueAfter('0 9 * * 2', 'Europe/Berlin', new Date(created.createdAt), created.id) as Date;
    const missionId = missionIdFor(scheduleScope(created.id), template, due.toISOString());
    const registry = system.intake.get(ScheduleRegistry);
    const recordFired = registry.fired.bind(registry);
    let deleted: Record<string, unknown> = {};
    // The racing order: the firing has created the mission; the DELETE runs to its answer before the firing's ScheduleFired.
    const racing = jest.spyOn(registry, 'fired').mockImplementationOnce(async (...args) => {
      deleted = (await system.api.delete(`/api/schedules/${created.id}`).expect(200)).body;
      return recordFired(...args);
    });
    try {
      // The firing's own ScheduleFired comes too late: the DELETE recorded it.
      expect(await firing.sweep(new Date(due.getTime() + MINUTE))).toEqual({ fired: 0, skipped: 0 });
    } finally {
      racing.mockRestore();
    }

    expect(deleted).toMatchObject({ fired: 1, lastDueAt: due.toISOString(), lastMissionId: missionId, deletedAt: expect.any(String), nextDueAt: null });
    const events = (await system.api.get(`/api/schedules/${created.id}/events`).expect(200)).body as ScheduleEventBody[];
    expect(events.map((event) => [event.type, event.actor, event.data])).toEqual([
      ['ScheduleCreated', 'operator', expect.anything()],
      ['ScheduleFired', 'operator', { dueAt: due.toISOString(), missionId }],
      ['ScheduleDeleted', 'operator', {}],
    ]);
    await system.waitForStatus(missionId, ['succeeded']);
  });

  it('given a DELETE whose append fails, then the due time it withdrew still fires its mission', async () => {
    const template = { ...inspection, title: 'Weekly defibrillator check' };
    const created = (await create({ cron: '0 8 * * 3', timeZone: 'Europe/Berlin', template }).expect(201)).body;
    const due = nextDueAfter('0 8 * * 3', 'Europe/Berlin', new Date(created.createdAt), created.id) as Date;
    const registry = system.intake.get(ScheduleRegistry);
    // After the withdrawal, the append of ScheduleDeleted fails (Redis went away): the schedule stays live.
    const failing = jest.spyOn(registry, 'delete').mockRejectedValueOnce(new Error('Connection is closed.'));
    try {
      await system.api.delete(`/api/schedules/${created.id}`).expect(503);
    } finally {
      failing.mockRestore();
    }

    // Its key stayed withdrawn: the create was refused and the due time skipped, "used for mission … with another body".
    expect(await firing.sweep(new Date(due.getTime() + MINUTE))).toEqual({ fired: 1, skipped: 0 });
    const missionId = missionIdFor(scheduleScope(created.id), template, due.toISOString());
    expect(await missionsOf(created.id)).toEqual([missionId]);
    await system.waitForStatus(missionId, ['succeeded']);
    await system.api.delete(`/api/schedules/${created.id}`).expect(200);
  });

  it.each([
    ['', false],
    [', met by a second DELETE', true],
  ])(
    'given a firing that finds its due time withdrawn by a DELETE not yet recorded%s, then it leaves the due time to the DELETE, which lands',
    async (_, met) => {
      const template = { ...inspection, title: `Weekly emergency exit check${met ? ' (met)' : ''}` };
      const created = (await create({ cron: '0 10 * * 3', timeZone: 'Europe/Berlin', template }).expect(201)).body;
      const due = nextDueAfter('0 10 * * 3', 'Europe/Berlin', new Date(created.createdAt), created.id) as Date;
      const registry = system.intake.get(ScheduleRegistry);
      const deleteSchedule = registry.delete.bind(registry);
      let swept: unknown;
      // The racing order: the DELETE has withdrawn the due time; a sweep runs before its ScheduleDeleted.
      const racing = jest.spyOn(registry, 'delete').mockImplementationOnce(async (...args) => {
        // A second DELETE (a client's retry) withdraws the key too, its append still to come: the record is marked met.
        if (met) {
          const key = idempotencyDeduplicationKey(scheduleScope(created.id), due.toISOString());
          await system.store.withdrawIdempotencyKey(missionIdForKey(key), key, system.environment.IDEMPOTENCY_TTL_SECONDS * 1000);
        }
        swept = await firing.sweep(new Date(due.getTime() + MINUTE));
        return deleteSchedule(...args);
      });
      try {
        // It was a 409, the schedule left live, and the due time skipped as "mission refused: … used for mission <id> with another body", which never was.
        await system.api.delete(`/api/schedules/${created.id}`).expect(200);
      } finally {
        racing.mockRestore();
      }

      expect(swept).toEqual({ fired: 0, skipped: 0 });
      const events = (await system.api.get(`/api/schedules/${created.id}/events`).expect(200)).body as ScheduleEventBody[];
      expect(events.map((event) => event.type)).toEqual(['ScheduleCreated', 'ScheduleDeleted']);
    },
  );

  it('given DELETEs that died between their withdrawal and their append, then a due time withdrawn a minute ago fires, and one withdrawn just now waits until its withdrawal is a minute old', async () => {
    const ttlMs = system.environment.IDEMPOTENCY_TTL_SECONDS * 1000;
    /** A schedule whose DELETE withdrew its next due time `ageMs` ago and was killed before its ScheduleDeleted. */
    const halfDeleted = async (title: string, ageMs: number) => {
      const created = (await create({ cron: '0 9 * * 4', timeZone: 'Europe/Berlin', template: { ...inspection, title } }).expect(201)).body;
      const due = nextDueAfter('0 9 * * 4', 'Europe/Berlin', new Date(created.createdAt), created.id) as Date;
      const key = idempotencyDeduplicationKey(scheduleScope(created.id), due.toISOString());
      const missionId = missionIdForKey(key);
      await system.store.withdrawIdempotencyKey(missionId, key, ttlMs);
      await system.redis.pexpire(system.keys.of(missionId).idempotency(key), ttlMs - ageMs);
      return { id: created.id as string, due, missionId };
    };
    const old = await halfDeleted('Weekly sprinkler check', 61_000);
    // Within the minute a DELETE may still be between its two steps: its due time stays withdrawn.
    const recent = await halfDeleted('Weekly smoke detector check', 30_000);
    // Withdrawn under a longer IDEMPOTENCY_TTL_SECONDS than now: its age cannot be told, and it counts as left over.
    const longer = await halfDeleted('Weekly gas detector check', -HOUR);

    const sweptAt = new Date(Math.max(old.due.getTime(), recent.due.getTime(), longer.due.getTime()) + MINUTE);
    // The recent one was skipped as "mission refused … with another body": a DELETE under way records it, not the sweep.
    expect(await firing.sweep(sweptAt)).toEqual({ fired: 2, skipped: 0 });
    expect(await missionsOf(old.id)).toEqual([old.missionId]);
    expect(await missionsOf(longer.id)).toEqual([longer.missionId]);
    expect(await missionsOf(recent.id)).toEqual([]);
    const recentEvents = (await system.api.get(`/api/schedules/${recent.id}/events`).expect(200)).body as ScheduleEventBody[];
    expect(recentEvents.map((event) => event.type)).toEqual(['ScheduleCreated']);
    // No DELETE came: once its withdrawal is a minute old, the due time fires.
    const recentKey = system.keys.of(recent.missionId).idempotency(idempotencyDeduplicationKey(scheduleScope(recent.id), recent.due.toISOString()));
    await system.redis.pexpire(recentKey, ttlMs - 61_000);
    expect(await firing.sweep(sweptAt)).toEqual({ fired: 1, skipped: 0 });
    expect(await missionsOf(recent.id)).toEqual([recent.missionId]);
    await system.waitForStatus(old.missionId, ['succeeded']);
    await system.waitForStatus(recent.missionId, ['succeeded']);
    await system.waitForStatus(longer.missionId, ['succeeded']);
    await system.api.delete(`/api/schedules/${old.id}`).expect(200);
    await system.api.delete(`/api/schedules/${recent.id}`).expect(200);
    await system.api.delete(`/api/schedules/${longer.id}`).expect(200);
  });

  it.each([
    ['', false],
    [' and the schedule deleted', true],
  ])('given a due time skipped%s after a firing decided on it and before it created the mission, then no mission is created', async (_, deleted) => {
    const template = { ...inspection, title: 'Daily fire door check' };
    const created = (await create({ cron: '0 7 * * *', timeZone: 'UTC', catchUpMs: HOUR, template }).expect(201)).body;
    const due = nextDueAfter('0 7 * * *', 'UTC', new Date(created.createdAt), created.id) as Date;
    const intake = system.intake.get(MissionIntakeService);
    const createMission = intake.create.bind(intake);
    // The racing order: the firing has read the schedule and decided on the due time; a sweep whose
    // clock is past the catch-up window (another intake's, or this one's next) skips it, and a
    // DELETE may follow; only then does the firing create the due time's mission.
    const racing = jest.spyOn(intake, 'create').mockImplementationOnce(async (...args) => {
      expect(await firing.sweep(new Date(due.getTime() + 2 * HOUR))).toEqual({ fired: 0, skipped: 1 });
      if (deleted) await system.api.delete(`/api/schedules/${created.id}`).expect(200);
      return createMission(...args);
    });
    try {
      expect(await firing.sweep(new Date(due.getTime() + MINUTE))).toEqual({ fired: 0, skipped: 0 });
    } finally {
      racing.mockRestore();
    }

    if (!deleted) await system.api.delete(`/api/schedules/${created.id}`).expect(200);
    const events = (await system.api.get(`/api/schedules/${created.id}/events`).expect(200)).body as ScheduleEventBody[];
    expect(events.map((event) => [event.type, event.data.from])).toEqual([
      ['ScheduleCreated', undefined],
      ['ScheduleSkipped', due.toISOString()],
      ['ScheduleDeleted', undefined],
    ]);
    // It used to be created, and no schedule event named it: its ScheduleFired came after ScheduleSkipped and was refused.
    await system.api.get(`/api/missions/${missionIdFor(scheduleScope(created.id), template, due.toISOString())}`).expect(404);
  });

  it('given a due time skipped after a firing created its mission and before its ScheduleFired, then the skip records it as fired', async () => {
    const template = { ...inspection, title: 'Daily smoke detector check' };
    const created = (await create({ cron: '0 8 * * *', timeZone: 'UTC', catchUpMs: HOUR, template }).expect(201)).body;
    const due = nextDueAfter('0 8 * * *', 'UTC', new Date(created.createdAt), created.id) as Date;
    const missionId = missionIdFor(scheduleScope(created.id), template, due.toISOString());
    const registry = system.intake.get(ScheduleRegistry);
    const recordFired = registry.fired.bind(registry);
    // The racing order: the firing has created the mission; a sweep past the catch-up window deals with the due time before the firing's ScheduleFired.
    const racing = jest.spyOn(registry, 'fired').mockImplementationOnce(async (...args) => {
      expect(await firing.sweep(new Date(due.getTime() + 2 * HOUR))).toEqual({ fired: 1, skipped: 0 });
      return recordFired(...args);
    });
    try {
      expect(await firing.sweep(new Date(due.getTime() + MINUTE))).toEqual({ fired: 0, skipped: 0 });
    } finally {
      racing.mockRestore();
    }

    expect(await missionsOf(created.id)).toEqual([missionId]);
    await system.waitForStatus(missionId, ['succeeded']);
    await system.api.delete(`/api/schedules/${created.id}`).expect(200);
  });

  it('given a skip whose append fails, then the due time can still fire at the next sweep', async () => {
    const template = { ...inspection, title: 'Daily sauna heater check' };
    const created = (await create({ cron: '0 9 * * *', timeZone: 'UTC', template }).expect(201)).body;
    const due = nextDueAfter('0 9 * * *', 'UTC', new Date(created.createdAt), created.id) as Date;
    const refusal = 'no registered agent has the skill sauna_repair: nobody could take this mission';
    // The create is refused (no agent with the skill yet), and the skip's append fails (Redis went away).
    const refused = jest
      .spyOn(system.intake.get(MissionIntakeService), 'create')
      .mockRejectedValueOnce(new MissionCreateRefusedError(refusal, RejectionCode.NoAgentHasSkills));
    const failing = jest.spyOn(system.intake.get(ScheduleRegistry), 'skipped').mockRejectedValueOnce(new Error('Connection is closed.'));
    try {
      await expect(firing.sweep(new Date(due.getTime() + MINUTE))).rejects.toThrow('Connection is closed.');
    } finally {
      refused.mockRestore();
      failing.mockRestore();
    }

    // An agent has the skill by the next sweep. The key used to stay withdrawn: that create was refused "with another body", and the due time skipped.
    expect(await firing.sweep(new Date(due.getTime() + 2 * MINUTE))).toEqual({ fired: 1, skipped: 0 });
    const missionId = missionIdFor(scheduleScope(created.id), template, due.toISOString());
    expect(await missionsOf(created.id)).toEqual([missionId]);
    await system.waitForStatus(missionId, ['succeeded']);
    await system.api.delete(`/api/schedules/${created.id}`).expect(200);
  });

  it('given a firing whose mission was created and whose idempotency record expired before its ScheduleFired, then the next firing records it as fired', async () => {
    const template = { ...inspection, title: 'Daily terrace heater check' };
    const created = (await create({ cron: '0 10 * * *', timeZone: 'UTC', template }).expect(201)).body;
    const due = nextDueAfter('0 10 * * *', 'UTC', new Date(created.createdAt), created.id) as Date;
    const scope = scheduleScope(created.id);
    const crashed = await system.intake.get(MissionIntakeService).create(template, { actor: 'operator', scope, idempotencyKey: due.toISOString() });
    await system.redis.del(system.keys.of(crashed.mission.id).idempotency(idempotencyDeduplicationKey(scope, due.toISOString())));

    // Its create is refused (the key's record expired), and the mission it names exists: recorded as fired, not skipped.
    expect(await firing.sweep(new Date(due.getTime() + MINUTE))).toEqual({ fired: 1, skipped: 0 });

    expect(await missionsOf(created.id)).toEqual([crashed.mission.id]);
    await system.waitForStatus(crashed.mission.id, ['succeeded']);
    await system.api.delete(`/api/schedules/${created.id}`).expect(200);
  });

  it('given two intake instances sweeping the same due time, and a firing whose mission was created before a crash, then one mission per due time', async () => {
    const second = await system.addInstance(intakeService);
    const created = (await create({ cron: '30 7 * * *', timeZone: 'Europe/Berlin', template: { ...inspection, title: 'Daily boiler check' } }).expect(201))
      .body;
    const [first, next] = dueTimes(
      '30 7 * * *',
      'Europe/Berlin',
      created.id,
      new Date(created.createdAt),
      new Date(Date.parse(created.createdAt) + 2 * DAY),
    ).slice(0, 2);
    // An intake created the second due time's mission and died before it appended ScheduleFired.
    const crashed = await system.intake
      .get(MissionIntakeService)
      .create({ ...inspection, title: 'Daily boiler check' }, { actor: 'operator', scope: scheduleScope(created.id), idempotencyKey: next.toISOString() });

    const both = await Promise.all([
      firing.sweep(new Date(next.getTime() + MINUTE)),
      second.get(ScheduleFiringService).sweep(new Date(next.getTime() + MINUTE)),
    ]);

    expect(both[0].fired + both[1].fired).toBe(2);
    const missionIds = await missionsOf(created.id);
    expect(missionIds).toHaveLength(2);
    expect(missionIds[1]).toBe(crashed.mission.id);
    expect(new Set(missionIds).size).toBe(2);
    const events = (await system.api.get(`/api/schedules/${created.id}/events`).expect(200)).body as ScheduleEventBody[];
    expect(events.filter((event) => event.type === 'ScheduleFired').map((event) => event.data.dueAt)).toEqual([first.toISOString(), next.toISOString()]);
    await Promise.all(missionIds.map((id) => system.waitForStatus(id, ['succeeded'])));
    await system.api.delete(`/api/schedules/${created.id}`).expect(200);
  });

  it('given a firing whose mission was created before a crash, and no sweep until its due time is past the catch-up window, then it is recorded as fired, not skipped', async () => {
    const created = (
      await create({ cron: '15 9 * * *', timeZone: 'UTC', catchUpMs: 3_600_000, template: { ...inspection, title: 'Morning pool check' } }).expect(201)
    ).body;
    const [first, second, third] = dueTimes('15 9 * * *', 'UTC', created.id, new Date(created.createdAt), new Date(Date.parse(created.createdAt) + 3 * DAY));
    // An intake created the first due time's mission and died before its ScheduleFired; every intake stayed down two days.
    const crashed = await system.intake
      .get(MissionIntakeService)
      .create({ ...inspection, title: 'Morning pool check' }, { actor: 'operator', scope: scheduleScope(created.id), idempotencyKey: first.toISOString() });

    expect(await firing.sweep(new Date(third.getTime() + MINUTE))).toEqual({ fired: 2, skipped: 1 });

    const events = (await system.api.get(`/api/schedules/${created.id}/events`).expect(200)).body as ScheduleEventBody[];
    // The first due time was counted as skipped, though its mission existed and ran.
    expect(events.filter((event) => event.type !== 'ScheduleCreated').map((event) => [event.type, event.data.dueAt ?? event.data.from])).toEqual([
      ['ScheduleFired', first.toISOString()],
      ['ScheduleSkipped', second.toISOString()],
      ['ScheduleFired', third.toISOString()],
    ]);
    expect((await missionsOf(created.id))[0]).toBe(crashed.mission.id);
    await Promise.all((await missionsOf(created.id)).map((id) => system.waitForStatus(id, ['succeeded'])));
    await system.api.delete(`/api/schedules/${created.id}`).expect(200);
  });

  it('given an H schedule scored earlier than its due time (as before H was seeded), then a sweep fires nothing and puts it back at its due time', async () => {
    const created = (await create({ cron: 'H * * * *', timeZone: 'UTC', template: { ...inspection, title: 'Hashed hourly check' } }).expect(201)).body;
    const due = nextDueAfter('H * * * *', 'UTC', new Date(created.createdAt), created.id) as Date;
    expect(created.nextDueAt).toBe(due.toISOString());
    // The score a random draw could have given it: before its real due time.
    await system.redis.zadd(system.keys.schedulesDue, Date.parse(created.createdAt), created.id);

    expect(await firing.sweep(new Date(due.getTime() - 1))).toEqual({ fired: 0, skipped: 0 });
    expect(Number(await system.redis.zscore(system.keys.schedulesDue, created.id))).toBe(due.getTime());
    expect(await firing.sweep(due)).toEqual({ fired: 1, skipped: 0 });
    await system.api.delete(`/api/schedules/${created.id}`).expect(200);
  });

  it('given a template no agent can serve any more, then its due time is skipped with the refusal, not retried forever', async () => {
    const template = { ...inspection, title: 'Sauna heater service', requiredSkills: ['sauna_repair'] };
    const spa = { id: 'agent-sven', name: 'Sven – Spa', capacity: 1, credits: 100, model: 'mock-hotel-1', systemPrompt: 'You are Sven, spa technician.' };
    await system.api
      .post('/api/agents')
      .send({ ...spa, skills: ['sauna_repair'] })
      .expect(201);
    const created = (await create({ cron: '0 6 * * *', timeZone: 'UTC', template }).expect(201)).body;
    const due = nextDueAfter('0 6 * * *', 'UTC', new Date(created.createdAt), created.id) as Date;
    await system.api
      .patch(`/api/agents/${spa.id}`)
      .send({ skills: ['pool_cleaning'] })
      .expect(200);
    // "Servable" may come from a view up to a second old; a refusal reads the agents as they are now, and so does every check after it.
    await create({ cron: '0 6 * * *', timeZone: 'UTC', template: { ...template, requiredSkills: ['ice_rink'] } }).expect(422);

    expect(await firing.sweep(due)).toEqual({ fired: 0, skipped: 1 });

    const events = (await system.api.get(`/api/schedules/${created.id}/events`).expect(200)).body as ScheduleEventBody[];
    expect(events[1]).toMatchObject({
      type: 'ScheduleSkipped',
      data: { count: 1, from: due.toISOString(), to: due.toISOString(), reason: expect.stringMatching(/^mission refused: .*sauna_repair/) },
    });
    expect(await firing.sweep(due)).toEqual({ fired: 0, skipped: 0 });
    await system.api.delete(`/api/schedules/${created.id}`).expect(200);
  });

  it('given a catch-up window of 0, then a due time fires at the first sweep after it, and is skipped only once a later sweep finds it', async () => {
    const created = (await create({ cron: '0 6 * * *', timeZone: 'UTC', template: { ...inspection, title: 'Pool chlorine check' }, catchUpMs: 0 }).expect(201))
      .body;
    const due = nextDueAfter('0 6 * * *', 'UTC', new Date(created.createdAt), created.id) as Date;
    // A sweep a moment after the due time: every firing of such a schedule used to be skipped.
    expect(await firing.sweep(new Date(due.getTime() + 200))).toEqual({ fired: 1, skipped: 0 });
    const next = nextDueAfter('0 6 * * *', 'UTC', due, created.id) as Date;
    expect(await firing.sweep(new Date(next.getTime() + MINUTE + 1))).toEqual({ fired: 0, skipped: 1 });
    // The skip withdrew the due time's key for the life of an idempotency record; it used to stay for good.
    const withdrawn = idempotencyDeduplicationKey(scheduleScope(created.id), next.toISOString());
    const ttl = await system.redis.pttl(system.keys.of(missionIdForKey(withdrawn)).idempotency(withdrawn));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(system.environment.IDEMPOTENCY_TTL_SECONDS * 1000);
    await system.api.delete(`/api/schedules/${created.id}`).expect(200);
  });

  it('given an intake down for ten days, then due times older than the catch-up window are skipped and counted, and the rest fire once each', async () => {
    const created = (await create({ cron: '0 6 * * *', timeZone: 'Europe/Berlin', template: { ...inspection, title: 'Night rate review' } }).expect(201)).body;
    const now = new Date(Date.parse(created.createdAt) + 10 * DAY);
    const due = dueTimes('0 6 * * *', 'Europe/Berlin', created.id, new Date(created.createdAt), now);
    // The window counts from the sweep that could first fire a due time (SCHEDULE_CHECK_MS, a minute here).
    const kept = due.filter((time) => time.getTime() >= now.getTime() - 3 * DAY - MINUTE);

    expect(await firing.sweep(now)).toEqual({ fired: kept.length, skipped: due.length - kept.length });

    const after = (await system.api.get(`/api/schedules/${created.id}`).expect(200)).body;
    expect(after).toMatchObject({ fired: kept.length, skipped: due.length - kept.length, lastDueAt: due[due.length - 1].toISOString() });
    const events = (await system.api.get(`/api/schedules/${created.id}/events`).expect(200)).body as ScheduleEventBody[];
    expect(events[1]).toMatchObject({
      type: 'ScheduleSkipped',
      data: {
        count: due.length - kept.length,
        from: due[0].toISOString(),
        to: due[due.length - kept.length - 1].toISOString(),
        reason: expect.stringMatching(/catch-up window/),
      },
    });
    expect(events.slice(2).map((event) => event.data.dueAt)).toEqual(kept.map((time) => time.toISOString()));
    await Promise.all((await missionsOf(created.id)).map((id) => system.waitForStatus(id, ['succeeded'])));
    await system.api.delete(`/api/schedules/${created.id}`).expect(200);
  });

  it('given a sweep whose instant was taken before its missions were created, then no ScheduleFired is dated before the mission it names', async () => {
    // A schedule made ten minutes ago, swept at an instant five minutes ago: the sweep's instant lies
    // behind the clock, as it does by the time a sweep's batch reaches its later schedules.
    const registry = system.intake.get(ScheduleRegistry);
    const madeAt = new Date(Date.now() - 10 * MINUTE);
    const definition = { cron: '* * * * *', timeZone: 'UTC', template: { ...inspection, title: 'Minibar restock' }, catchUpMs: null };
    const schedule = await registry.create(registry.newId(), definition, 'operator', madeAt);

    const sweptAt = madeAt.getTime() + 5 * MINUTE;
    await firing.sweep(new Date(sweptAt));

    // The intake's own sweep (real clock) may fire the later due times, or these, meanwhile: count
    // those due by the test's sweep, and check every firing's date.
    const fired = (await system.api.get(`/api/schedules/${schedule.id}/events`).expect(200)).body.filter(
      (event: ScheduleEventBody) => event.type === 'ScheduleFired',
    );
    expect(fired.filter((event: ScheduleEventBody) => Date.parse(event.data.dueAt as string) <= sweptAt).length).toBeGreaterThanOrEqual(4);
    for (const event of fired as (ScheduleEventBody & { at: string })[]) {
      const mission = (await system.api.get(`/api/missions/${event.data.missionId as string}`).expect(200)).body;
      expect(Date.parse(event.at)).toBeGreaterThanOrEqual(Date.parse(mission.createdAt));
    }
    await Promise.all((fired as ScheduleEventBody[]).map((event) => system.waitForStatus(event.data.missionId as string, ['succeeded'])));
    await system.api.delete(`/api/schedules/${schedule.id}`).expect(200);
  });
});
