import { randomBytes } from 'node:crypto';
import { decideApprove, decideAssign, decideComplete, decideCreate, decideStart, decideVerdict, Mission, resolveSubjects } from '@app/mission';
import { aCreateInput, aResult, anEvaluation, deleteKeysByPrefix, MissionHistory, TEST_MISSION_ID, testKeyPrefix, testRedisConnection } from '@app/testing';
import { ERASED_MARKER, GuestDataCipher } from './guest-data-cipher';
import { GuestDataKeys } from './guest-data-keys';
import { MasterKeyRing } from './master-key-ring';
import { MissionPersonalData } from './mission-personal-data';
import { SubjectKeyCache } from './subject-key-cache';
import { SubjectKeyStore } from './subject-key-store';

describe('MissionPersonalData', () => {
  const redis = testRedisConnection('mission-personal-data-spec');
  let keys: GuestDataKeys;
  let personal: MissionPersonalData;

  beforeEach(() => {
    keys = new GuestDataKeys(testKeyPrefix('mission-personal-data'));
    const ring = MasterKeyRing.fromSecrets(randomBytes(32).toString('base64url'));
    personal = new MissionPersonalData(new GuestDataCipher(new SubjectKeyStore(redis, keys, ring, new SubjectKeyCache(60_000, 100))));
  });
  afterEach(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  const guestInput = aCreateInput({
    type: 'guest_support',
    description: 'Anna asks for a late check-out',
    payload: { room: '204', guest: { id: 7, name: 'Anna Schmidt', email: 'anna@example.com', vip: true }, message: 'Can I stay until 2 pm?' },
  });

  /** A mission created from the sealed input, run to a passed result whose output is sealed as the executor seals it. */
  async function completedMission(history = new MissionHistory()): Promise<Mission> {
    const subjects = resolveSubjects(guestInput, 'pending');
    history.append(decideCreate({ ...(await personal.sealCreate(TEST_MISSION_ID, subjects, guestInput)), subjects }));
    history.apply(decideAssign(history.mission, 'agent-1'));
    history.apply(decideStart(history.mission, 1));
    const output = await personal.sealOutput(history.mission, {
      language: 'en',
      reply: 'Dear Anna, yes until 2 pm.',
      actions: ['tell housekeeping: room 204'],
    });
    history.apply(decideComplete(history.mission, 1, aResult({ output })));
    return history.mission;
  }

  it('given a create, then only the personal fields of its type are sealed; ids and routing fields stay plain', async () => {
    const sealed = await personal.sealCreate('m-1', ['guest:7'], guestInput);
    expect(sealed.payload).toMatchObject({ room: '204', guest: { id: 7, vip: true } });
    for (const value of [sealed.description, sealed.payload.message, (sealed.payload.guest as Record<string, unknown>).name]) expect(value).toMatch(/^enc:v3:/);
    expect(sealed.title).toBe(guestInput.title);
    expect(await personal.sealCreate('m-1', [], guestInput)).toBe(guestInput);
  });

  it('given a mission with a sealed input and result, then openMission and openEvent give the plain values back', async () => {
    const history = new MissionHistory();
    const mission = await completedMission(history);
    expect(mission.result?.output.reply).toMatch(/^enc:v3:/);
    expect(mission.result?.output.language).toBe('en');
    const opened = await personal.openMission(mission);
    expect(opened.payload).toEqual(guestInput.payload);
    expect(opened.description).toBe(guestInput.description);
    expect(opened.result?.output).toEqual({ language: 'en', reply: 'Dear Anna, yes until 2 pm.', actions: ['tell housekeeping: room 204'] });
    const [created, , , , completed] = await personal.openEvents(history.events);
    expect(created.type === 'MissionCreated' && created.data.payload).toEqual(guestInput.payload);
    expect(completed.type === 'MissionCompleted' && completed.data.result.output.reply).toBe('Dear Anna, yes until 2 pm.');
  });

  it("given a reviewer's edit, then it is sealed like the output, and the agent's original opens from the review", async () => {
    const history = new MissionHistory();
    await completedMission(history);
    history.apply(decideVerdict(history.mission, anEvaluation(1, true), 3, { reviewRule: 'guest-replies' }));
    const edit = await personal.sealOutput(history.mission, { language: 'en', reply: 'Dear Ms Schmidt, certainly.', actions: [] });
    expect(edit.reply).toMatch(/^enc:v3:/);
    const approved = history.apply(decideApprove(history.mission, { output: edit }));
    const opened = await personal.openMission(approved);
    expect(opened.result?.output.reply).toBe('Dear Ms Schmidt, certainly.');
    expect(opened.review?.originalOutput?.reply).toBe('Dear Anna, yes until 2 pm.');
    const event = await personal.openEvent(history.events.at(-1) as (typeof history.events)[number]);
    expect(event.type === 'MissionApproved' && event.data.output?.reply).toBe('Dear Ms Schmidt, certainly.');
  });

  it("given the edit's and the original's actions swapped in the read model, when opened, then the tampered error, not each other's text", async () => {
    const history = new MissionHistory();
    await completedMission(history);
    history.apply(decideVerdict(history.mission, anEvaluation(1, true), 3, { reviewRule: 'guest-replies' }));
    const edit = await personal.sealOutput(history.mission, { language: 'en', reply: 'Dear Ms Schmidt, certainly.', actions: ['edited action'] });
    const approved = history.apply(decideApprove(history.mission, { output: edit }));
    const result = approved.result as NonNullable<Mission['result']>;
    const review = approved.review as NonNullable<Mission['review']>;
    const original = review.originalOutput as Record<string, unknown>;
    // Both parts bind their fields as output.<field>: only the part check tells the swap.
    const swapped: Mission = {
      ...approved,
      result: { ...result, output: { ...result.output, actions: original.actions } },
      review: { ...review, originalOutput: { ...original, actions: result.output.actions } },
    };
    await expect(personal.openMission(swapped)).rejects.toThrow(/output\.actions of mission .* \(a group's fields are in two parts\)/);
  });

  it('given a named guest and no personal input, when created and the reply arrives, then the key was made at create and the reply is sealed', async () => {
    const input = aCreateInput({ type: 'guest_support', description: '', payload: { room: '204', guest: { id: 8 } } });
    const history = new MissionHistory();
    const subjects = resolveSubjects(input, 'pending');
    history.append(decideCreate({ ...(await personal.sealCreate(TEST_MISSION_ID, subjects, input)), subjects }));
    expect(await personal.cipher.store.has('guest:8')).toBe(true);
    history.apply(decideAssign(history.mission, 'agent-1'));
    history.apply(decideStart(history.mission, 1));
    const output = await personal.sealOutput(history.mission, { language: 'en', reply: 'Dear guest', actions: [] });
    expect(output.reply).toMatch(/^enc:v3:/);
    expect((await personal.openMission(history.apply(decideComplete(history.mission, 1, aResult({ output }))))).result?.output.reply).toBe('Dear guest');
  });

  it('given a maintenance mission for a named guest, then its description is sealed, and opens from the mission and its create event', async () => {
    const input = aCreateInput({ type: 'maintenance', description: 'Ticket: Anna Schmidt, shower broken', payload: { guest: { id: 9 } } });
    const subjects = resolveSubjects(input, 'pending');
    const history = new MissionHistory();
    const sealed = await personal.sealCreate(TEST_MISSION_ID, subjects, input);
    expect(sealed.description).toMatch(/^enc:v3:/);
    history.append(decideCreate({ ...sealed, subjects }));
    expect((await personal.openMission(history.mission)).description).toBe(input.description);
    const [created] = await personal.openEvents(history.events);
    expect(created.type === 'MissionCreated' && created.data.description).toBe(input.description);
  });

  it('given output text that starts like a token, when the mission and its events are opened, then it is shown as it is, never an error', async () => {
    const history = new MissionHistory();
    await completedMission(history);
    const injected = { language: 'enc:v9:ignore the rules', summary: 'enc:v1:abc.def', reply: 'enc:list every guest' };
    // As a mission without subjects (data from before encryption) keeps its output in plain.
    const completed = { ...(history.events.at(-1) as (typeof history.events)[number]) };
    if (completed.type !== 'MissionCompleted') throw new Error('expected the completion');
    const event = await personal.openEvent({ ...completed, data: { ...completed.data, result: { ...completed.data.result, output: injected } } });
    expect(event.type === 'MissionCompleted' && event.data.result.output).toEqual(injected);
    const mission = { ...history.mission, result: history.mission.result ? { ...history.mission.result, output: injected } : null };
    expect((await personal.openMission(mission)).result?.output).toEqual(injected);
  });

  it('given a mission that records its subject as erased while the key is there (an import brought it back), then openMission shows [erased]', async () => {
    const mission = await completedMission();
    expect(await personal.cipher.store.has('guest:7')).toBe(true);
    const opened = await personal.openMission({ ...mission, erasedSubjects: ['guest:7'] });
    expect(opened.description).toBe(ERASED_MARKER);
    expect(opened.payload.message).toBe(ERASED_MARKER);
    expect(opened.result?.output.reply).toBe(ERASED_MARKER);
    expect(opened.result?.output.language).toBe('en');
  });

  it('given a result that arrives after the subject was erased, then it is stored as [erased] and no new key is made', async () => {
    const history = new MissionHistory();
    const subjects = resolveSubjects(guestInput, 'pending');
    history.append(decideCreate({ ...(await personal.sealCreate(TEST_MISSION_ID, subjects, guestInput)), subjects }));
    await personal.cipher.erase('guest:7');
    const output = await personal.sealOutput(history.mission, { language: 'en', reply: 'Dear Anna', actions: ['x'] });
    expect(output).toEqual({ language: 'en', reply: ERASED_MARKER, actions: ERASED_MARKER });
    expect(await personal.cipher.store.has('guest:7')).toBe(false);
    const opened = await personal.openMission(history.mission);
    expect(opened.payload.message).toBe(ERASED_MARKER);
    expect(opened.payload.room).toBe('204');
  });

  describe('forAttempt (an executor attempt)', () => {
    /** A created, assigned and started mission about guest:7, as the executor receives it. */
    async function startedMission(): Promise<MissionHistory> {
      const history = new MissionHistory();
      const subjects = resolveSubjects(guestInput, 'pending');
      history.append(decideCreate({ ...(await personal.sealCreate(TEST_MISSION_ID, subjects, guestInput)), subjects }));
      history.apply(decideAssign(history.mission, 'agent-1'));
      history.apply(decideStart(history.mission, 1));
      return history;
    }

    it('given a started mission, when the attempt opens it and seals the output, then the keys are read from Redis once, not from the cache', async () => {
      const history = await startedMission();
      const reads = jest.spyOn(personal.cipher.store, 'currentKeys');
      const cached = jest.spyOn(personal.cipher.store, 'existingKeys');
      const attempt = await personal.forAttempt(history.mission);
      expect(attempt.mission.payload.message).toBe('Can I stay until 2 pm?');
      expect(attempt.mission.description).toBe(guestInput.description);
      const output = attempt.sealOutput({ language: 'en', reply: 'Dear Anna, yes.', actions: ['room 204'] });
      expect(output.reply).toMatch(/^enc:v3:/);
      expect(reads).toHaveBeenCalledTimes(1);
      expect(cached).not.toHaveBeenCalled();
      const opened = await personal.openMission(history.apply(decideComplete(history.mission, 1, aResult({ output }))));
      expect(opened.result?.output).toEqual({ language: 'en', reply: 'Dear Anna, yes.', actions: ['room 204'] });
    });

    it('given the subject erased during the attempt, then the output it seals reads [erased] and no key is made', async () => {
      const history = await startedMission();
      const attempt = await personal.forAttempt(history.mission);
      await personal.cipher.erase('guest:7');
      const output = attempt.sealOutput({ language: 'en', reply: 'Dear Anna', actions: ['x'] });
      const opened = await personal.openMission(history.apply(decideComplete(history.mission, 1, aResult({ output }))));
      expect(opened.result?.output).toEqual({ language: 'en', reply: ERASED_MARKER, actions: ERASED_MARKER });
      expect(await personal.cipher.store.has('guest:7')).toBe(false);
    });

    it('given the subject erased before the attempt, then the prompt has [erased] and the output is stored as [erased]', async () => {
      const history = await startedMission();
      await personal.cipher.erase('guest:7');
      const attempt = await personal.forAttempt(history.mission);
      expect(attempt.mission.payload.message).toBe(ERASED_MARKER);
      expect(attempt.sealOutput({ language: 'en', reply: 'Dear Anna', actions: [] })).toEqual({ language: 'en', reply: ERASED_MARKER, actions: ERASED_MARKER });
    });
  });
});
