import { Logger } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { Environment, loadEnvironment } from '@app/config';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import {
  decideAssign,
  decideComplete,
  decideCreate,
  decideEvaluate,
  decideFailure,
  decideRetry,
  decideStart,
  Decision,
  Mission,
  MissionEvent,
  resolveSubjects,
  UNAVAILABLE_MARKER,
} from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import {
  aCreateInput,
  alteredToken,
  alterStoredDescription,
  anEvaluation,
  aResult,
  deleteKeysByPrefix,
  TEST_QUEUE_ORDER,
  testKeyPrefix,
  testPersonalData,
  testRedisConnection,
} from '@app/testing';
import { ALTERED_GUEST_DATA } from '../http/error-body.filter';
import { ErasureSweepService } from './erasure-sweep.service';
import { PendingErasures } from './pending-erasures';
import { SubjectsController } from './subjects.controller';
import { SubjectsService } from './subjects.service';

/** The sweep's log lines, kept to look at instead of written. */
class RecordingLogger {
  readonly lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  info(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'info', message, fields });
  }
  error(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'error', message, fields });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message, fields: {} });
  }
}

interface Guest {
  id: string;
  name: string;
  phone: string;
}

/** A guest_support mission about `guest`, sealed and appended as the intake's create does it. */
async function aGuestRequestUnder(
  { personal, pipeline }: Pick<ReturnType<typeof subjectsServiceUnder>, 'personal' | 'pipeline'>,
  missionId: string,
  guest: Guest,
  message: string,
): Promise<void> {
  const input = aCreateInput({ payload: { room: '204', guest, message } });
  const subjectIds = resolveSubjects(input, missionId);
  const sealed = await personal.sealCreate(missionId, subjectIds, { ...input, subjects: subjectIds });
  expect((await pipeline.append(missionId, null, decideCreate(sealed), { actor: 'test' })).code).toBe(AppendCode.Ok);
}

/** A SubjectsService on real Redis under its own prefix, with what it is made of. */
function subjectsServiceUnder(name: string) {
  const redis = testRedisConnection(`${name}-spec`);
  const keys = new KeyLayout(testKeyPrefix(name), 2);
  const store = new MissionStore(redis, keys);
  const pipeline = new MissionPipeline(store, new ReadyQueue(redis, keys, TEST_QUEUE_ORDER));
  const personal = testPersonalData(redis, keys.prefix);
  const pending = new PendingErasures(redis, keys);
  const subjects = new SubjectsService(redis, keys, store, pipeline, personal, pending);
  return { redis, keys, store, pipeline, personal, pending, subjects };
}

describe('SubjectsService erasure that a crash interrupts (real Redis)', () => {
  const { redis, keys, store, pipeline, personal, pending, subjects } = subjectsServiceUnder('subjects-service');
  const env: Environment = loadEnvironment({ ERASURE_SWEEP_MS: '1000' });
  const logger = new RecordingLogger();
  const sweeper = new ErasureSweepService(subjects, env, redis, logger as unknown as PinoLogger);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
    await redis.quit();
  });

  /** A mission about `subject`, queued, with the subject's data key made as the intake's create makes it. */
  async function aMissionAbout(missionId: string, subject: string): Promise<void> {
    await personal.cipher.store.keysFor([subject]);
    const created = await pipeline.append(missionId, null, decideCreate(aCreateInput({ subjects: [subject] })), { actor: 'test' });
    expect(created.code).toBe(AppendCode.Ok);
  }

  const erasureEvents = async (missionId: string): Promise<MissionEvent[]> =>
    (await store.history(missionId)).filter((event) => event.type === 'SubjectErased' || event.type === 'MissionCancelled');

  it('given a crash after the key was destroyed and before any SubjectErased, when the sweep runs, then it records the erasure with the original actor and reason, and a second run changes nothing', async () => {
    await aMissionAbout('m-crash-queued', 'guest:crash');
    // A mission whose attempts failed on its [erased] input and went to the dead-letter queue before the sweep.
    await aMissionAbout('m-crash-dead', 'guest:crash');
    await pipeline.transition('m-crash-dead', (m) => decideAssign(m, 'agent-1'), { actor: 'test' });
    await pipeline.transition('m-crash-dead', (m) => decideStart(m, 1), { actor: 'test' });
    const dead = await pipeline.transition('m-crash-dead', (m) => decideFailure(m, 1, 'reply stored [erased]', 3, { permanent: 'no input' }), {
      actor: 'test',
    });
    expect(dead.kind === 'appended' && dead.mission.status).toBe('dead_lettered');

    // The crash: the erasure recorded as pending and the key destroyed, nothing appended.
    const requestedAt = new Date('2026-12-01T10:00:00.000Z');
    await pending.mark('guest:crash', 'operator:alice', 'erasure request 2026-117', requestedAt);
    const aPeriodLater = new Date(requestedAt.getTime() + env.ERASURE_SWEEP_MS);
    expect(await personal.cipher.erase('guest:crash')).toBe(true);

    const finished = await sweeper.sweep(aPeriodLater);

    expect(finished).toEqual([
      {
        subjectId: 'guest:crash',
        keyDestroyed: false,
        missions: [
          { missionId: 'm-crash-dead', recorded: true, status: 'cancelled' },
          { missionId: 'm-crash-queued', recorded: true, status: 'cancelled' },
        ],
      },
    ]);
    for (const missionId of ['m-crash-queued', 'm-crash-dead']) {
      const events = await erasureEvents(missionId);
      expect(events.map(({ type, actor }) => ({ type, actor }))).toEqual([
        { type: 'SubjectErased', actor: 'operator:alice' },
        { type: 'MissionCancelled', actor: 'operator:alice' },
      ]);
      expect(events[0].data).toEqual({ subjectId: 'guest:crash', reason: 'erasure request 2026-117' });
    }
    // Cancelled, the missions leave the ready queue and the dead letters: no attempt, no requeue on [erased] input.
    const queued = await Promise.all(keys.partitions.flatMap((k) => [redis.zrange(k.ready, 0, -1), redis.zrange(k.deadLetters, 0, -1)]));
    expect(queued.flat()).not.toContain('m-crash-queued');
    expect(queued.flat()).not.toContain('m-crash-dead');
    expect(await pending.read('guest:crash')).toBeNull();
    expect(await redis.exists(keys.erasurePending('guest:crash'), keys.erasuresPending)).toBe(0);

    const versions = await Promise.all(['m-crash-queued', 'm-crash-dead'].map(async (id) => (await store.history(id)).length));
    expect(await sweeper.sweep(aPeriodLater)).toEqual([]);
    expect(await Promise.all(['m-crash-queued', 'm-crash-dead'].map(async (id) => (await store.history(id)).length))).toEqual(versions);
    expect(logger.lines.filter((line) => line.message === 'pending erasure finished')).toHaveLength(1);
  });

  // The sweep logged its UnreadableStoredDataError as an error with a stack, every ERASURE_SWEEP_MS.
  it('given a pending erasure one of whose missions cannot be read, when the sweep runs again and again, then it stays pending, named once, and the sweep after the mend finishes it', async () => {
    await aMissionAbout('m-held-readable', 'guest:held');
    await aMissionAbout('m-held-broken', 'guest:held');
    const requestedAt = new Date('2026-12-03T10:00:00.000Z');
    const erasure = await pending.mark('guest:held', 'operator:grace', 'erasure request 2026-121', requestedAt);
    const aPeriodLater = new Date(requestedAt.getTime() + env.ERASURE_SWEEP_MS);
    const state = String(await redis.hget(keys.mission('m-held-broken'), 's'));
    await redis.hset(keys.mission('m-held-broken'), 's', 'not json');
    const before = logger.lines.length;

    for (let run = 0; run < 3; run++) expect(await sweeper.sweep(aPeriodLater)).toEqual([]);

    expect(logger.lines.slice(before)).toEqual([
      {
        level: 'warn',
        message:
          'the erasure sweep passes over mission m-held-broken: its state in the read model (s) is not JSON, on every run until it is mended (run replay verify, then replay rebuild); the erasure of subject guest:held stays pending until every mission of the subject can be read, and the first sweep after that finishes it',
        fields: {},
      },
    ]);
    expect(await pending.read('guest:held')).toEqual(erasure);
    expect(await personal.cipher.store.has('guest:held')).toBe(false);

    // Mended, as `replay rebuild` writes it again from the log.
    await redis.hset(keys.mission('m-held-broken'), 's', state);
    const [finished] = await sweeper.sweep(aPeriodLater);

    expect(finished.missions).toEqual([
      { missionId: 'm-held-broken', recorded: true, status: 'cancelled' },
      { missionId: 'm-held-readable', recorded: true, status: 'cancelled' },
    ]);
    expect((await erasureEvents('m-held-broken')).map(({ type, actor }) => `${type} by ${actor}`)).toEqual([
      'SubjectErased by operator:grace',
      'MissionCancelled by operator:grace',
    ]);
    expect(await pending.read('guest:held')).toBeNull();
  });

  // The warn said that the sweep after the mend finishes the erasure: with a second such mission,
  // that sweep names the second instead.
  it('given a pending erasure two of whose missions cannot be read, when one is mended, then the next sweep names the other, and the first after both are mended finishes it', async () => {
    const broken = ['m-twice-a', 'm-twice-b'];
    for (const id of broken) await aMissionAbout(id, 'guest:twice');
    const requestedAt = new Date('2026-12-03T11:00:00.000Z');
    await pending.mark('guest:twice', 'operator:grace', 'erasure request 2026-122', requestedAt);
    const aPeriodLater = new Date(requestedAt.getTime() + env.ERASURE_SWEEP_MS);
    const states = new Map<string, string>();
    for (const id of broken) {
      states.set(id, String(await redis.hget(keys.mission(id), 's')));
      await redis.hset(keys.mission(id), 's', 'not json');
    }
    const mend = (id: string) => redis.hset(keys.mission(id), 's', states.get(id) ?? '');
    const namedBy = async (run: () => Promise<unknown>): Promise<string[]> => {
      const before = logger.lines.length;
      await run();
      return logger.lines.slice(before).map(({ level, message }) => `${level}: ${message}`);
    };
    const named = (id: string) =>
      `warn: the erasure sweep passes over mission ${id}: its state in the read model (s) is not JSON, on every run until it is mended (run replay verify, then replay rebuild); the erasure of subject guest:twice stays pending until every mission of the subject can be read, and the first sweep after that finishes it`;

    // Whichever of them the sweep reads first holds the erasure up.
    const firstRun = await namedBy(() => sweeper.sweep(aPeriodLater));
    expect(firstRun).toHaveLength(1);
    const firstId = broken.find((id) => firstRun[0] === named(id)) ?? '';
    const secondId = broken.find((id) => id !== firstId) ?? '';
    expect(broken).toContain(firstId);
    await mend(firstId);

    expect(await namedBy(() => sweeper.sweep(aPeriodLater))).toEqual([named(secondId)]);
    expect(await pending.read('guest:twice')).not.toBeNull();
    await mend(secondId);

    expect(await namedBy(() => sweeper.sweep(aPeriodLater))).toEqual(['info: pending erasure finished']);
    expect(await pending.read('guest:twice')).toBeNull();
  });

  it('given a crash after the erasure was recorded as pending and before the key was destroyed, when a period has passed, then the sweep finishes it and destroys the key too', async () => {
    await aMissionAbout('m-early', 'guest:early');
    const requestedAt = new Date('2026-12-02T10:00:00.000Z');
    await pending.mark('guest:early', 'operator:bob', 'erasure request 2026-118', requestedAt);

    // Younger than a period (ERASURE_SWEEP_MS = 1000): the request may still be working on it.
    expect(await sweeper.sweep(new Date(requestedAt.getTime() + 999))).toEqual([]);
    expect(await personal.cipher.store.has('guest:early')).toBe(true);
    const [erasure] = await sweeper.sweep(new Date(requestedAt.getTime() + 1000));

    expect(erasure.keyDestroyed).toBe(true);
    expect(await personal.cipher.store.has('guest:early')).toBe(false);
    expect((await erasureEvents('m-early')).map(({ type, actor }) => `${type} by ${actor}`)).toEqual([
      'SubjectErased by operator:bob',
      'MissionCancelled by operator:bob',
    ]);
  });

  it('given an erasure that completes, when it returns, then nothing is left pending', async () => {
    await aMissionAbout('m-done', 'guest:done');

    const erasure = await subjects.erase('guest:done', 'erasure request 2026-119', 'operator:carol');

    expect(erasure).toEqual({ subjectId: 'guest:done', keyDestroyed: true, missions: [{ missionId: 'm-done', recorded: true, status: 'cancelled' }] });
    expect(await pending.read('guest:done')).toBeNull();
    expect(await redis.zscore(keys.erasuresPending, 'guest:done')).toBeNull();
  });

  it('given an erasure left pending, when the same subject is erased again, then the pending one is completed with its own actor and reason', async () => {
    await aMissionAbout('m-again', 'guest:again');
    await pending.mark('guest:again', 'operator:dave', 'erasure request 2026-120');
    await personal.cipher.erase('guest:again');

    const erasure = await subjects.erase('guest:again', 'second try', 'operator:erin');

    expect(erasure.missions).toEqual([{ missionId: 'm-again', recorded: true, status: 'cancelled' }]);
    const [erased] = await erasureEvents('m-again');
    expect({ actor: erased.actor, data: erased.data }).toEqual({
      actor: 'operator:dave',
      data: { subjectId: 'guest:again', reason: 'erasure request 2026-120' },
    });
    expect(await pending.read('guest:again')).toBeNull();
  });

  it('given a later erasure of the same subject pending, when an earlier one is cleared, then the later one stays', async () => {
    const first = await pending.mark('guest:later', 'operator:frank', 'first');
    await pending.clear(first);
    const second = await pending.mark('guest:later', 'operator:frank', 'second');

    await pending.clear(first);

    expect(await pending.read('guest:later')).toEqual(second);
    await pending.clear(second);
    expect(await pending.read('guest:later')).toBeNull();
  });
});

describe("SubjectsService given a subject index that names another guest's mission (real Redis)", () => {
  const { redis, keys, store, pipeline, personal, subjects } = subjectsServiceUnder('subjects-service-foreign');

  afterAll(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
    await redis.quit();
  });

  const aGuestRequest = (missionId: string, guest: Guest, message: string) => aGuestRequestUnder({ personal, pipeline }, missionId, guest, message);

  it("when the access request and the erasure of the first guest read the damaged set, then they leave the other guest's mission out", async () => {
    await aGuestRequest('m-bea', { id: 'zq-2002', name: 'Bea Brandt', phone: '+49 30 2002' }, 'Towels for room 204, please.');
    await aGuestRequest('m-cem', { id: 'zq-3003', name: 'Cem Celik', phone: '+49 30 3003' }, 'My passport number is C0FFEE.');
    // The damage: C's id in B's set (of B's partition: the set access reads first).
    await redis.sadd(keys.of('m-bea').subjectMissions('guest:zq-2002'), 'm-cem');
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

    const access = await subjects.access('guest:zq-2002');

    expect(access.missions.map(({ mission }) => mission.id)).toEqual(['m-bea']);
    const text = JSON.stringify(access);
    for (const theirs of ['Cem Celik', '+49 30 3003', 'C0FFEE', 'zq-3003']) expect(text).not.toContain(theirs);
    expect(text).toContain('Bea Brandt');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('the subject index of guest:zq-2002 names mission m-cem'));

    const erasure = await subjects.erase('guest:zq-2002', 'erasure request 2026-121', 'operator:gina');

    expect(erasure.missions).toEqual([{ missionId: 'm-bea', recorded: true, status: 'cancelled' }]);
    expect((await store.history('m-cem')).map((event) => event.type)).not.toContain('SubjectErased');
    expect(await personal.cipher.store.has('guest:zq-3003')).toBe(true);
    warn.mockRestore();
  });
});

describe('SubjectsController access request (real Redis)', () => {
  const parts = subjectsServiceUnder('subjects-access-log');
  const logger = new RecordingLogger();
  const controller = new SubjectsController(parts.subjects, logger as unknown as PinoLogger);

  afterAll(async () => {
    await deleteKeysByPrefix(parts.redis, parts.keys.prefix);
    await parts.redis.quit();
  });

  // An operator could read a guest's data in plain without a trace, while every erasure is an event with its actor.
  it("given a guest with two missions, when an operator pulls the guest's data, then one info line names the caller, the subject and the mission count, and no personal data", async () => {
    const guest = { id: 'zq-4004', name: 'Anna Schmidt', phone: '+49 30 1234567' };
    await aGuestRequestUnder(parts, 'm-access-1', guest, 'Anna asks for a late checkout');
    await aGuestRequestUnder(parts, 'm-access-2', guest, 'Anna asks for towels');

    const access = await controller.access('guest:zq-4004', 'front-desk-key');

    expect(access.missions).toHaveLength(2);
    expect(logger.lines).toEqual([
      { level: 'info', message: 'guest data accessed', fields: { actor: 'front-desk-key', subjectId: 'guest:zq-4004', missions: 2 } },
    ]);
  });
});

describe('SubjectsService access to a guest whose stored guest data was altered (real Redis)', () => {
  const parts = subjectsServiceUnder('subjects-access-altered');
  const { redis, keys, store, pipeline, personal, subjects } = parts;
  const guest = { id: 'zq-5005', name: 'Dora Dorn', phone: '+49 30 5005' };
  const unavailable = {
    description: UNAVAILABLE_MARKER,
    payload: { guest: { name: UNAVAILABLE_MARKER, phone: UNAVAILABLE_MARKER }, message: UNAVAILABLE_MARKER },
  };

  afterAll(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
    await redis.quit();
  });

  /** Appends what `decide` gives for the mission as it is now. */
  async function step(missionId: string, decide: (mission: Mission) => Decision): Promise<void> {
    const mission = await store.load(missionId);
    if (!mission) throw new Error(`no mission ${missionId}`);
    const decision = decide(mission);
    if (decision.kind !== 'append') throw new Error(`no append for ${missionId}: ${JSON.stringify(decision)}`);
    expect((await pipeline.append(missionId, mission, decision.events, { actor: 'test' })).code).toBe(AppendCode.Ok);
  }

  // One such mission made the whole document a 500: no access request of that guest could be answered.
  it("given one of the guest's missions whose state was altered in its hash, then the document holds it with its personal fields unavailable and says why; the others read in plain", async () => {
    await aGuestRequestUnder(parts, 'm-altered-state', guest, 'Dora asks for a quiet room');
    await aGuestRequestUnder(parts, 'm-whole', guest, 'Dora asks for towels');
    await alterStoredDescription(redis, keys, 'm-altered-state');
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);

    const access = await subjects.access('guest:zq-5005');

    const [alteredEntry, whole] = ['m-altered-state', 'm-whole'].map((id) => access.missions.find((entry) => entry.mission.id === id));
    expect(alteredEntry).toMatchObject({ mission: unavailable, unavailable: ALTERED_GUEST_DATA });
    expect(alteredEntry?.personalData).toEqual(
      expect.arrayContaining([
        { field: 'description', value: UNAVAILABLE_MARKER },
        { field: 'payload.guest.name', value: UNAVAILABLE_MARKER },
      ]),
    );
    expect(whole?.mission.payload).toMatchObject({ guest, message: 'Dora asks for towels' });
    expect(whole).not.toHaveProperty('unavailable');
    expect(error).toHaveBeenCalledWith(
      expect.stringMatching(/^an access document met mission m-altered-state, whose guest data cannot be opened \(tampered\)/),
    );
    expect(JSON.stringify(error.mock.calls)).not.toContain('Dora');
    error.mockRestore();
  });

  it("given an earlier attempt's output altered in the log, then that output reads unavailable and the mission's own fields in plain", async () => {
    const missionId = 'm-altered-output';
    await aGuestRequestUnder(parts, missionId, guest, 'Dora asks for a late checkout');
    await step(missionId, (mission) => decideAssign(mission, 'agent-1'));
    await step(missionId, (mission) => decideStart(mission, 1));
    const output = await personal.sealOutput({ id: missionId, type: 'guest_support', subjects: ['guest:zq-5005'] }, { reply: 'Dear Dora, 14:00 is fine.' });
    await step(missionId, (mission) => decideComplete(mission, 1, aResult({ output })));
    await step(missionId, (mission) => decideEvaluate(mission, anEvaluation(1, false)));
    await step(missionId, (mission) => decideRetry(mission, 1, 3));
    // The second attempt clears the result: the first output is the log's alone.
    await step(missionId, (mission) => decideAssign(mission, 'agent-1'));
    const history = await store.history(missionId);
    const completed = history.findIndex((event) => event.type === 'MissionCompleted');
    const token = output.reply as string;
    await alterLoggedEvent(missionId, completed, (json) => json.replace(token, alteredToken(token)));
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);

    const access = await subjects.access('guest:zq-5005');

    const entry = access.missions.find(({ mission }) => mission.id === missionId);
    expect(entry?.mission.payload).toMatchObject({ guest, message: 'Dora asks for a late checkout' });
    expect(entry?.personalData).toContainEqual({ field: `events.${history[completed].version}.result.output.reply`, value: UNAVAILABLE_MARKER });
    expect(entry?.unavailable).toBe(ALTERED_GUEST_DATA);
    error.mockRestore();
  });

  /** The mission's event at `index` of its event list replaced by `edit` of its log entry, a new entry of the log, as someone with write access to Redis could. */
  async function alterLoggedEvent(missionId: string, index: number, edit: (json: string) => string): Promise<void> {
    const partition = keys.of(missionId);
    const [id] = await redis.lrange(partition.missionEvents(missionId), index, index);
    const [[, fields]] = await redis.xrange(partition.log, id, id);
    const json = fields[fields.indexOf('e') + 1];
    const replaced = await redis.xadd(partition.log, '*', 'm', missionId, 'e', edit(json));
    await redis.lset(partition.missionEvents(missionId), index, replaced ?? '');
  }
});
