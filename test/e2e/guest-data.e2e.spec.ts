import { createHash } from 'node:crypto';
import { verifyLog } from '@app/audit';
import { MissionStore } from '@app/event-store';
import { GuestDataKeys, MissionPersonalData } from '@app/guest-data';
import { apiScope, canonicalJson, decideEraseSubject, decideReviewOverdue, deduplicationKey, Mission, MissionEvent, UNAVAILABLE_MARKER } from '@app/mission';
import { MissionPipeline } from '@app/pipeline';
import { escapeGlob, RedisConnection, scanKeys } from '@app/redis';
import { alterStoredDescription, waitFor, WebhookReceiver } from '@app/testing';
import { PendingErasures } from '../../apps/intake/src/subjects/pending-erasures';
import { SubjectAccess } from '../../apps/intake/src/subjects/subjects.service';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';
import { runReplayCli } from '../support/replay-cli';

const ANNA = { id: 'g-4711', name: 'Anna Schmidt', email: 'anna.schmidt@example.com', phone: '+49 911 5550142' };
const MESSAGE = 'Die Heizung in Zimmer 204 bleibt kalt, ich friere seit gestern Abend';
/** What must never be found in Redis in plain. */
const NEEDLES = [ANNA.name, 'Schmidt', ANNA.email, ANNA.phone, MESSAGE, 'friere seit gestern'];

const guestRequest = {
  type: 'guest_support',
  title: 'Heating complaint, room 204',
  description: `Guest writes: ${MESSAGE}`,
  priority: 'high',
  payload: { language: 'de', room: '204', guest: { ...ANNA, vip: true }, message: MESSAGE },
};
const repair = {
  type: 'maintenance',
  title: 'Heating in room 204',
  description: 'Radiator stays cold; check the valve.',
  priority: 'normal',
  payload: { room: '204', guest: { id: ANNA.id, name: ANNA.name, phone: ANNA.phone } },
};

/** A guest's question, created and run until its reply is held for review; the mission as the API shows it then. */
async function heldForReview(system: InProcessSystem, guest: { id: string; name: string; email?: string }, message: string): Promise<Mission> {
  const created = (
    await system.api
      .post('/api/missions')
      .send({ ...guestRequest, payload: { language: 'en', guest, message } })
      .expect(201)
  ).body as Mission;
  await system.waitForStatus(created.id, ['awaiting_review']);
  return (await system.api.get(`/api/missions/${created.id}`).expect(200)).body as Mission;
}

/**
 * Two of the guest's questions held for review, the second rejected into the dead letters (a system
 * with MAX_REVIEW_ROUNDS 1): one to decide, one to requeue; each as the API showed it held.
 */
async function heldAndDeadLettered(system: InProcessSystem, guest: { id: string; name: string }): Promise<{ shown: Mission; dead: Mission }> {
  const shown = await heldForReview(system, guest, 'Is the sauna open?');
  const dead = await heldForReview(system, guest, 'And the pool?');
  await system.api.post(`/api/missions/${dead.id}/reject`).set('Authorization', `Bearer ${TEST_KEYS.reviewer}`).send({ feedback: 'No.' }).expect(200);
  await system.waitForStatus(dead.id, ['dead_lettered']);
  return { shown, dead };
}

/** Every value of every key under the prefix, whatever its type, as one text. */
async function dumpPrefix(redis: RedisConnection, prefix: string): Promise<string> {
  const parts: string[] = [];
  for await (const keys of scanKeys(redis, `${escapeGlob(prefix)}*`)) {
    for (const key of keys) {
      const type = await redis.type(key);
      // The services keep running: a key emptied between the scan and this read (a due set) is gone, with nothing to read.
      if (type === 'none') continue;
      parts.push(key);
      if (type === 'string') parts.push((await redis.get(key)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, 0, -1)));
      else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      else throw new Error(`key ${key} has type ${type}, which this dump does not read`);
    }
  }
  return parts.join('\n');
}

describe('guest data, encrypted at rest (four services, real Redis)', () => {
  let system: InProcessSystem;
  beforeAll(async () => {
    // Acked messages are kept, so the dump sees every message the services exchanged.
    system = await startInProcessSystem('e2e-guest-data', { STREAM_KEEP_ACKED: 'true' });
  });
  afterAll(async () => system.close());

  it('given missions for a guest run through the pipeline, then the API shows their data, and no key of the prefix holds it in plain', async () => {
    const support = await system.api.post('/api/missions').send(guestRequest).expect(201);
    const maintenance = await system.api.post('/api/missions').send(repair).expect(201);
    expect(support.body).toMatchObject({ subjects: ['guest:g-4711'], payload: { guest: ANNA, message: MESSAGE }, description: guestRequest.description });
    for (const id of [support.body.id, maintenance.body.id]) expect((await system.waitForStatus(id, ['succeeded', 'dead_lettered'])).status).toBe('succeeded');

    const fetched = (await system.api.get(`/api/missions/${support.body.id}`).expect(200)).body as Mission;
    expect(fetched.payload).toMatchObject({ guest: ANNA, message: MESSAGE });
    expect(typeof fetched.result?.output.reply).toBe('string');
    expect(fetched.result?.output.reply).not.toMatch(/^enc:/);
    expect(Array.isArray(fetched.result?.output.actions)).toBe(true);
    const events = (await system.api.get(`/api/missions/${support.body.id}/events`).expect(200)).body as MissionEvent[];
    expect(events[0]).toMatchObject({ type: 'MissionCreated', data: { subjects: ['guest:g-4711'], payload: { guest: ANNA } } });
    const completed = events.find((event) => event.type === 'MissionCompleted');
    expect(completed?.type === 'MissionCompleted' && completed.data.result.output.reply).toBe(fetched.result?.output.reply);
    const listed = (await system.api.get('/api/missions?type=maintenance').expect(200)).body as { items: Mission[] };
    expect(listed.items.find((item) => item.id === maintenance.body.id)?.payload).toMatchObject({ guest: { name: ANNA.name, phone: ANNA.phone } });

    // In Redis: tokens only, in the read model as in the log.
    const stored = await system.store.load(support.body.id);
    expect(stored?.payload.message).toMatch(/^enc:v3:/);
    expect(stored?.result?.output.reply).toMatch(/^enc:v3:/);
    const dump = await dumpPrefix(system.redis, system.prefix);
    // The dump sees what is not personal: the id and the title, in plain.
    expect(dump).toContain(support.body.id);
    expect(dump).toContain(guestRequest.title);
    for (const needle of NEEDLES) expect({ needle, found: dump.includes(needle) }).toEqual({ needle, found: false });
    expect(dump).not.toContain(fetched.result?.output.reply as string);
  });

  it('given a create with an idempotency key, then its record holds a fingerprint keyed by the master key, and no key of the prefix the plain SHA-256 of the body', async () => {
    // Bodies are templated: a plain hash in a dump would confirm a guess of a guest's whole request, and outlive their erasure.
    const body = { ...guestRequest, title: 'Heating complaint, room 204, again' };
    const created = (await system.api.post('/api/missions').set('Idempotency-Key', 'heating-204').send(body).expect(201)).body as Mission;
    const plain = createHash('sha256').update(canonicalJson(body)).digest('hex');
    const record = await system.redis.get(system.keys.of(created.id).idempotency(deduplicationKey(apiScope('operator'), {}, 'heating-204') ?? ''));
    expect(record).toMatch(new RegExp(`^${created.id} [0-9a-f]{64}$`));
    expect(record).not.toContain(plain);
    expect(await dumpPrefix(system.redis, system.prefix)).not.toContain(plain);
    // Still the same body to its retry.
    expect((await system.api.post('/api/missions').set('Idempotency-Key', 'heating-204').send(body).expect(200)).body.id).toBe(created.id);
  });

  it('given submissions over the stream that the intake refuses, whatever their shape, then the rejections it keeps hold no guest data', async () => {
    // The submission itself is in plain until the intake takes it (and deletes it with the ack, unless STREAM_KEEP_ACKED).
    const partition = system.keys.partitions[0];
    const refused = [
      { mission: { ...guestRequest, type: 'spa' } },
      // These kept the guest's data in plain: an id that is an e-mail address, a misspelt property, data that is no object.
      { mission: { ...guestRequest, payload: { ...guestRequest.payload, guest: { ...ANNA, id: ANNA.email } } } },
      // A guest that is no object was taken, its name and address in plain in the mission, under no key.
      { mission: { ...guestRequest, payload: { ...guestRequest.payload, guest: ANNA.name } } },
      { mission: { ...repair, type: 'pricing', payload: { guest: [{ name: ANNA.name, email: ANNA.email }] } } },
      { misson: guestRequest },
      [guestRequest],
    ];
    for (const data of refused) await system.redis.xadd(partition.stream('intake'), '*', 'pattern', 'mission.submit', 'data', JSON.stringify(data));
    const entries = await waitFor(
      async () => {
        const kept = await system.redis.xrange(partition.rejectedSubmissions, '-', '+');
        return kept.length === refused.length ? kept : null;
      },
      { timeoutMs: 10_000, what: 'the refused submissions' },
    );
    const kept = entries.map(([, fields]) => fields.join('\n')).join('\n');
    expect(kept).toContain('type must be one of');
    expect(kept).toContain('[redacted]');
    for (const needle of NEEDLES) expect({ needle, found: kept.includes(needle) }).toEqual({ needle, found: false });
  });

  it('given two guests whose numeric ids differ only past 2^53, then each create is a 400 asking for a string id, and as strings they are two subjects', async () => {
    // JSON.parse reads both as 98765432109876540000: they were one subject, whose access request and erasure took in both guests.
    const ids = ['98765432109876543210', '98765432109876543211'];
    for (const id of ids) {
      const raw = JSON.stringify({ ...repair, payload: { room: '204', guest: { name: `guest ${id}` } } }).replace('"guest":{', `"guest":{"id":${id},`);
      const refused = await system.api.post('/api/missions').set('Content-Type', 'application/json').send(raw).expect(400);
      expect(refused.body.details).toEqual([
        { field: 'payload', problems: [expect.stringMatching(/^payload\.guest\.id, when a number,.*send larger ids as strings$/)] },
      ]);
    }
    const created = [];
    for (const id of ids)
      created.push(
        (
          await system.api
            .post('/api/missions')
            .send({ ...repair, payload: { room: '204', guest: { id, name: `guest ${id}` } } })
            .expect(201)
        ).body as Mission,
      );
    expect(created.map((mission) => mission.subjects)).toEqual(ids.map((id) => [`guest:${id}`]));
    const access = (await system.api.get(`/api/subjects/guest:${ids[0]}`).expect(200)).body;
    expect(access.missions.map((entry: { mission: Mission }) => entry.mission.id)).toEqual([created[0].id]);
  });

  // One such mission made the whole access document a 500: no access request of that guest could be answered.
  it("given one of a guest's missions whose stored guest data was altered, then their access document still answers, that mission's fields unavailable and why", async () => {
    const dora = { id: 'g-altered-access', name: 'Dora Dorn', email: 'dora@example.org' };
    const send = (message: string) =>
      system.api
        .post('/api/missions')
        .send({ ...guestRequest, notBefore: '2099-01-01T00:00:00Z', payload: { language: 'en', guest: dora, message } })
        .expect(201);
    const altered = (await send('A quiet room, please.')).body as Mission;
    const whole = (await send('Two more towels, please.')).body as Mission;
    const restore = await alterStoredDescription(system.redis, system.keys, altered.id);
    // Put back after: a later test verifies this system's log and read model.
    try {
      // The mission alone was the 500 that names the check: shown as the lists show it now, and why.
      expect((await system.api.get(`/api/missions/${altered.id}`).expect(200)).body).toMatchObject({
        id: altered.id,
        description: UNAVAILABLE_MARKER,
        payload: { guest: { name: UNAVAILABLE_MARKER }, message: UNAVAILABLE_MARKER },
        unavailable: expect.stringMatching(/^stored guest data fails its authentication check: it was altered/),
      });

      const access = (await system.api.get('/api/subjects/guest:g-altered-access').expect(200)).body as SubjectAccess;

      const entryOf = (id: string) => access.missions.find((entry) => entry.mission.id === id);
      expect(entryOf(altered.id)).toMatchObject({
        mission: { description: UNAVAILABLE_MARKER, payload: { guest: { name: UNAVAILABLE_MARKER, email: UNAVAILABLE_MARKER }, message: UNAVAILABLE_MARKER } },
        unavailable: expect.stringMatching(/^stored guest data fails its authentication check: it was altered/),
      });
      expect(entryOf(altered.id)?.personalData).toContainEqual({ field: 'payload.guest.email', value: UNAVAILABLE_MARKER });
      expect(entryOf(whole.id)?.mission.payload).toMatchObject({ guest: dora, message: 'Two more towels, please.' });
      expect(entryOf(whole.id)).not.toHaveProperty('unavailable');
    } finally {
      await restore();
    }
  });

  describe('given a guest who asks for their data and then for erasure', () => {
    const BOB = { id: 'g-erase', name: 'Bob Example', email: 'bob@example.org', phone: '+49 30 1234567' };
    const subject = 'guest:g-erase';
    const forBob = (overrides: Record<string, unknown> = {}) => ({
      ...guestRequest,
      title: 'Towels for room 310',
      description: 'Guest writes: more towels please',
      payload: { language: 'en', room: '310', guest: BOB, message: 'Could I have two more towels?' },
      ...overrides,
    });

    it('then access returns every mission and field in plain; erasure destroys the key, cancels what is in flight, shows [erased] everywhere, and verify passes', async () => {
      const done = (await system.api.post('/api/missions').send(forBob()).expect(201)).body as Mission;
      expect((await system.waitForStatus(done.id, ['succeeded', 'dead_lettered'])).status).toBe('succeeded');
      // Still waiting for its time: in flight when the erasure comes.
      const later = (
        await system.api
          .post('/api/missions')
          .send(forBob({ notBefore: '2099-01-01T00:00:00Z' }))
          .expect(201)
      ).body as Mission;
      expect(later.status).toBe('scheduled');

      const access = (await system.api.get(`/api/subjects/${subject}`).expect(200)).body;
      expect(access).toMatchObject({ subjectId: subject, erased: false });
      expect(access.missions.map((entry: { mission: Mission }) => entry.mission.id).sort()).toEqual([done.id, later.id].sort());
      const doneEntry = access.missions.find((entry: { mission: Mission }) => entry.mission.id === done.id);
      expect(doneEntry.personalData).toEqual(
        expect.arrayContaining([
          { field: 'payload.guest.email', value: BOB.email },
          { field: 'payload.message', value: 'Could I have two more towels?' },
          { field: 'result.output.reply', value: expect.any(String) },
        ]),
      );

      // Refused: no reason, an e-mail address as the id, a subject nobody knows; a reader may not erase.
      await system.api.delete(`/api/subjects/${subject}`).send({}).expect(400);
      await system.api
        .delete(`/api/subjects/${encodeURIComponent(BOB.email)}`)
        .send({ reason: 'request' })
        .expect(400);
      await system.api.delete('/api/subjects/guest:nobody').send({ reason: 'request' }).expect(404);
      await system.api.get('/api/subjects/guest:nobody').expect(404);
      // The bare guest id was a 404 that did not say a guest's subject is guest:<id>.
      const bareId = subject.slice('guest:'.length);
      expect((await system.api.get(`/api/subjects/${bareId}`).expect(404)).body.message).toBe(
        `subject ${bareId} not found (a guest named in a mission's payload.guest.id is the subject ${subject})`,
      );
      await system.api.delete(`/api/subjects/${subject}`).set('Authorization', `Bearer ${TEST_KEYS.reader}`).send({ reason: 'request' }).expect(403);

      const erased = (await system.api.delete(`/api/subjects/${subject}`).send({ reason: 'erasure request 17' }).expect(200)).body;
      expect(erased.keyDestroyed).toBe(true);
      expect(erased.missions).toEqual(
        expect.arrayContaining([
          { missionId: done.id, recorded: true, status: 'succeeded' },
          { missionId: later.id, recorded: true, status: 'cancelled' },
        ]),
      );
      expect(await system.redis.hexists(new GuestDataKeys(system.prefix).subjectKeys(subject), subject)).toBe(0);

      const after = (await system.api.get(`/api/missions/${done.id}`).expect(200)).body as Mission;
      expect(after.payload).toMatchObject({ room: '310', guest: { id: BOB.id, name: '[erased]', email: '[erased]', phone: '[erased]' }, message: '[erased]' });
      expect(after.description).toBe('[erased]');
      expect(after.result?.output).toMatchObject({ reply: '[erased]', actions: '[erased]' });
      expect(after.erasedSubjects).toEqual([subject]);
      // An erasure reaches back: the mission as it was before it names the subject erased too, so it
      // reads [erased] from a process that still holds the key in its cache (it named none).
      const before = (await system.api.get(`/api/missions/${done.id}?at=${encodeURIComponent(done.updatedAt)}`).expect(200)).body as Mission;
      expect(before.erasedSubjects).toEqual([subject]);
      expect(before.payload).toMatchObject({ guest: { name: '[erased]' }, message: '[erased]' });
      const events = (await system.api.get(`/api/missions/${done.id}/events`).expect(200)).body as MissionEvent[];
      expect(events[0]).toMatchObject({ data: { payload: { guest: { name: '[erased]' } } } });
      expect(events.at(-1)).toMatchObject({ type: 'SubjectErased', actor: 'operator', data: { subjectId: subject, reason: 'erasure request 17' } });
      const cancelled = (await system.api.get(`/api/missions/${later.id}/events`).expect(200)).body as MissionEvent[];
      expect(cancelled.slice(-2).map((event) => event.type)).toEqual(['SubjectErased', 'MissionCancelled']);

      const accessAfter = (await system.api.get(`/api/subjects/${subject}`).expect(200)).body;
      expect(accessAfter.erased).toBe(true);
      expect(accessAfter.missions[0].personalData.every((field: { value: unknown }) => field.value === '[erased]')).toBe(true);

      // Repeated: nothing more to do, nothing changes.
      const again = (await system.api.delete(`/api/subjects/${subject}`).send({ reason: 'erasure request 17' }).expect(200)).body;
      expect(again).toMatchObject({ keyDestroyed: false, missions: expect.arrayContaining([{ missionId: done.id, recorded: false, status: 'succeeded' }]) });

      // The chains cover the ciphertext, which erasure does not touch.
      expect(await verifyLog(system.redis, system.keys)).toMatchObject({ ok: true, findings: [] });
      // The audit CLI reads the log as stored: whom the mission is about, and who was erased; never the fields.
      const state = await runReplayCli(['--prefix', system.prefix, '--partitions', String(system.keys.partitions.length), 'state', done.id]);
      expect(state.code).toBe(0);
      expect(state.stdout).toMatch(/erased subjects\s+guest:g-erase\n/);
      expect(state.stdout).not.toContain(BOB.name);
    });

    it('given an erasure that stopped after destroying the key (a crash), when it is asked again, then it records what was left', async () => {
      const crashSubject = 'guest:g-crash';
      const mission = (
        await system.api
          .post('/api/missions')
          .send(forBob({ subjects: [crashSubject], notBefore: '2099-01-01T00:00:00Z' }))
          .expect(201)
      ).body as Mission;
      // What the first request did before it stopped: the key is gone, no event yet.
      await system.redis.hdel(new GuestDataKeys(system.prefix).subjectKeys(crashSubject), crashSubject);
      const finished = (await system.api.delete(`/api/subjects/${crashSubject}`).send({ reason: 'erasure request 18' }).expect(200)).body;
      expect(finished).toEqual({ subjectId: crashSubject, keyDestroyed: false, missions: [{ missionId: mission.id, recorded: true, status: 'cancelled' }] });
      expect((await system.api.get(`/api/missions/${mission.id}`).expect(200)).body.payload.guest.email).toBe('[erased]');
    });

    it('given a create for the guest that makes a new key while the erasure runs, then that mission is erased too, and its key with it', async () => {
      const raceSubject = 'guest:g-race';
      const keys = new GuestDataKeys(system.prefix);
      await system.api
        .post('/api/missions')
        .send(forBob({ subjects: [raceSubject], notBefore: '2099-01-01T00:00:00Z' }))
        .expect(201);
      const cipher = system.intake.get(MissionPersonalData).cipher;
      const erase = cipher.erase.bind(cipher);
      let late: Mission | undefined;
      // Right after the first destruction: the create finds no key, makes one, and is appended.
      const raced = jest.spyOn(cipher, 'erase').mockImplementationOnce(async (subject) => {
        const destroyed = await erase(subject);
        late = (
          await system.api
            .post('/api/missions')
            .send(forBob({ subjects: [raceSubject], notBefore: '2099-01-02T00:00:00Z' }))
            .expect(201)
        ).body as Mission;
        return destroyed;
      });
      try {
        const erased = (await system.api.delete(`/api/subjects/${raceSubject}`).send({ reason: 'erasure request 20' }).expect(200)).body;
        expect(erased.missions).toHaveLength(2);
        expect(erased.missions).toContainEqual({ missionId: late?.id, recorded: true, status: 'cancelled' });
      } finally {
        raced.mockRestore();
      }
      // The key the late create made used to survive, and opened its events.
      expect(await system.redis.hexists(keys.subjectKeys(raceSubject), raceSubject)).toBe(0);
      const history = (await system.api.get(`/api/missions/${late?.id}/events`).expect(200)).body as { type: string; data: { payload?: object } }[];
      expect(history[0].data.payload).toMatchObject({ guest: { name: '[erased]' } });
    });

    it("given a mission that records its guest as erased while the guest's key is still there, then its events read [erased], as the mission does", async () => {
      // As after a crash in the erasure's loop, or in another intake whose key cache still holds the key.
      const keptSubject = 'guest:g-kept';
      const mission = (
        await system.api
          .post('/api/missions')
          .send(forBob({ subjects: [keptSubject], notBefore: '2099-01-01T00:00:00Z' }))
          .expect(201)
      ).body as Mission;
      await system.intake
        .get(MissionPipeline)
        .transition(mission.id, (current) => decideEraseSubject(current, keptSubject, 'erasure request 21'), { actor: 'operator' });
      expect(await system.redis.hexists(new GuestDataKeys(system.prefix).subjectKeys(keptSubject), keptSubject)).toBe(1);

      expect((await system.api.get(`/api/missions/${mission.id}`).expect(200)).body.payload.guest).toMatchObject({ name: '[erased]', email: '[erased]' });
      const history = (await system.api.get(`/api/missions/${mission.id}/events`).expect(200)).body as { type: string; data: { payload?: object } }[];
      // The events opened with the key: the guest's name and e-mail in plain, on the API, the live stream and webhooks.
      expect(history[0]).toMatchObject({ type: 'MissionCreated', data: { payload: { guest: { name: '[erased]', email: '[erased]' } } } });
      expect(JSON.stringify(history)).not.toContain(BOB.email);
    });

    it('given an erased guest, when one of their missions is submitted again with its idempotency key, then it is answered as the repeat and no key comes back', async () => {
      const repeatSubject = 'guest:g-repeat';
      const body = forBob({ subjects: [repeatSubject], notBefore: '2099-01-01T00:00:00Z' });
      const first = (await system.api.post('/api/missions').set('Idempotency-Key', 'towels-g-repeat').send(body).expect(201)).body as Mission;
      await system.api.delete(`/api/subjects/${repeatSubject}`).send({ reason: 'erasure request 19' }).expect(200);

      const repeated = (await system.api.post('/api/missions').set('Idempotency-Key', 'towels-g-repeat').send(body).expect(200)).body as Mission;
      expect(repeated).toMatchObject({ id: first.id, status: 'cancelled', erasedSubjects: [repeatSubject] });
      expect(repeated.payload).toMatchObject({ guest: { name: '[erased]', email: '[erased]' } });
      expect(await system.redis.hexists(new GuestDataKeys(system.prefix).subjectKeys(repeatSubject), repeatSubject)).toBe(0);
      expect((await system.api.get(`/api/subjects/${repeatSubject}`).expect(200)).body).toMatchObject({ subjectId: repeatSubject, erased: true });
    });
  });

  describe('given a reply held for review and an erasure of its guest under way (no key cache, so the intake reads the key each time)', () => {
    let reviewed: InProcessSystem;
    beforeAll(async () => {
      // One review round: a rejection dead-letters, for the requeue below.
      reviewed = await startInProcessSystem('e2e-guest-data-erasing', {
        REVIEW_POLICY_FILE: 'fixtures/review-policy.yaml',
        DATA_KEY_CACHE_TTL_MS: '0',
        MAX_REVIEW_ROUNDS: '1',
      });
    });
    afterAll(async () => {
      await reviewed.close();
    });

    it('when a reviewer approves with an edit, then a 409 says the guest data was erased, not a 400 about the edit', async () => {
      const shown = await heldForReview(reviewed, { id: 'g-dora', name: 'Dora Beispiel' }, 'Is parking free?');
      // The erasure's first step, its events not yet appended: the mission is still under review.
      const keys = new GuestDataKeys(reviewed.prefix);
      expect(await reviewed.redis.hdel(keys.subjectKeys('guest:g-dora'), 'guest:g-dora')).toBe(1);
      const approved = await reviewed.api
        .post(`/api/missions/${shown.id}/approve`)
        .set('Authorization', `Bearer ${TEST_KEYS.reviewer}`)
        .send({ output: { ...shown.result?.output, reply: 'Dear Ms Beispiel, parking is free.' } });
      // It was a 400, "output is not shaped like the agent's result", details "actions must be a string".
      expect({ status: approved.status, message: approved.body.message }).toEqual({
        status: 409,
        message: `cannot approve mission ${shown.id}: its guest data was erased; the erasure cancels it`,
      });
    });

    it('when an erasure of its guest is pending (a crash cut it short), then approve, reject and requeue are a 409 and change nothing', async () => {
      const reviewer = { Authorization: `Bearer ${TEST_KEYS.reviewer}` };
      const { shown, dead } = await heldAndDeadLettered(reviewed, { id: 'g-emma', name: 'Emma Beispiel' });
      // Recorded as pending, its key maybe destroyed, its SubjectErased not yet appended: the sweep finishes it.
      await reviewed.intake.get(PendingErasures).mark('guest:g-emma', 'operator', 'erasure request 23');
      const refused = (command: string, id: string) => ({
        status: 409,
        message: `cannot ${command} mission ${id}: its guest data is being erased; the erasure cancels it`,
      });

      // The approve was a 200: a success whose reply read [erased], sent on to webhooks and Odoo.
      const approved = await reviewed.api.post(`/api/missions/${shown.id}/approve`).set(reviewer).send({});
      expect({ status: approved.status, message: approved.body.message }).toEqual(refused('approve', shown.id));
      const rejected = await reviewed.api.post(`/api/missions/${shown.id}/reject`).set(reviewer).send({ feedback: 'Say when it opens.' });
      expect({ status: rejected.status, message: rejected.body.message }).toEqual(refused('reject', shown.id));
      expect((await reviewed.api.get(`/api/missions/${shown.id}`).expect(200)).body).toMatchObject({ status: 'awaiting_review', version: shown.version });

      // A requeued dead letter of the guest, one by one or in bulk, ran again without its data.
      const requeued = await reviewed.api.post(`/api/dlq/${dead.id}/requeue`).send({});
      expect({ status: requeued.status, message: requeued.body.message }).toEqual(refused('requeue', dead.id));
      const bulk = (await reviewed.api.post('/api/dlq/requeue').send({ type: 'guest_support' }).expect(200)).body;
      expect(bulk).toEqual({ requeued: [], skipped: [{ missionId: dead.id, reason: refused('requeue', dead.id).message }] });
    });
  });

  describe('given replies held for review whose stored guest data was altered', () => {
    let damaged: InProcessSystem;
    beforeAll(async () => {
      // One review round: a rejection dead-letters, for the requeue below.
      damaged = await startInProcessSystem('e2e-guest-data-damaged', { REVIEW_POLICY_FILE: 'fixtures/review-policy.yaml', MAX_REVIEW_ROUNDS: '1' });
    });
    afterAll(async () => {
      await damaged.close();
    });

    // An approve answered the 500 of the altered data after it was recorded: the reply no reviewer
    // could read went out to the guest (webhooks, Odoo). A reject, requeue and cancel answered the 500 too, once recorded.
    it('then approve, edit-and-approve, reject and requeue are a 409 that records nothing, the mission reads unavailable and why, and a cancel is taken', async () => {
      const reviewer = { Authorization: `Bearer ${TEST_KEYS.reviewer}` };
      const { shown, dead } = await heldAndDeadLettered(damaged, { id: 'g-rita', name: 'Rita Beispiel' });
      const restores = [
        await alterStoredDescription(damaged.redis, damaged.keys, shown.id),
        await alterStoredDescription(damaged.redis, damaged.keys, dead.id),
      ];
      const refused = (command: string, id: string) =>
        new RegExp(
          `^cannot ${command} mission ${id}: its guest data is damaged \\(it fails its integrity check where it is stored, so it cannot be shown or sent\\); ` +
            'nothing was recorded\\. Call an operator and give them the mission id',
        );
      const unavailable = expect.stringMatching(/^stored guest data fails its authentication check/);
      try {
        expect((await damaged.api.get(`/api/missions/${shown.id}`).set(reviewer).expect(200)).body).toMatchObject({
          status: 'awaiting_review',
          description: UNAVAILABLE_MARKER,
          result: { output: { reply: UNAVAILABLE_MARKER } },
          unavailable,
        });
        const decisions = [
          ['approve', { attempt: shown.attempts }],
          ['approve', { attempt: shown.attempts, output: { ...shown.result?.output, reply: 'Dear Ms Beispiel, the pool is open until 22:00.' } }],
          ['reject', { feedback: 'Say until when.', attempt: shown.attempts }],
        ] as const;
        for (const [command, body] of decisions) {
          const answer = await damaged.api.post(`/api/missions/${shown.id}/${command}`).set(reviewer).send(body);
          expect({ command, status: answer.status, message: answer.body.message }).toEqual({
            command,
            status: 409,
            message: expect.stringMatching(refused(command, shown.id)),
          });
        }
        expect(await damaged.store.history(shown.id)).toHaveLength(shown.version);

        const requeued = await damaged.api.post(`/api/dlq/${dead.id}/requeue`).send({});
        expect({ status: requeued.status, message: requeued.body.message }).toEqual({
          status: 409,
          message: expect.stringMatching(refused('requeue', dead.id)),
        });
        const bulk = (await damaged.api.post('/api/dlq/requeue').send({ type: 'guest_support' }).expect(200)).body;
        expect(bulk).toEqual({ requeued: [], skipped: [{ missionId: dead.id, reason: expect.stringMatching(refused('requeue', dead.id)) }] });
        expect((await damaged.store.load(dead.id))?.status).toBe('dead_lettered');

        // Needs no guest data and sends none: how such a mission is stopped.
        const cancelled = await damaged.api.post(`/api/missions/${shown.id}/cancel`).send({ reason: 'guest data damaged' }).expect(200);
        expect(cancelled.body).toMatchObject({ status: 'cancelled', description: UNAVAILABLE_MARKER, unavailable });
      } finally {
        for (const restore of restores) await restore();
      }
      expect((await damaged.api.get(`/api/missions/${shown.id}`).expect(200)).body).not.toHaveProperty('unavailable');
    });

    // The check ran once, on the mission first loaded: the append's version conflict reloaded the
    // mission and decided again on it, the approval recorded, the reply sent out.
    it('given the data altered together with another change between the check and the append, then the approve is a 409 too, and records nothing', async () => {
      const held = await heldForReview(damaged, { id: 'g-rosa', name: 'Rosa Beispiel' }, 'Is the gym open?');
      const store = damaged.intake.get(MissionStore);
      const append = store.append.bind(store);
      let restore: (() => Promise<void>) | undefined;
      jest.spyOn(store, 'append').mockImplementationOnce(async (...args: Parameters<typeof store.append>) => {
        restore = await alterStoredDescription(damaged.redis, damaged.keys, held.id);
        // What the review deadline's sweep appends meanwhile: it moves the version.
        expect((await damaged.store.transition(held.id, (m, now) => decideReviewOverdue(m, now, 0), { actor: 'review-deadline' })).kind).toBe('appended');
        return append(...args);
      });
      try {
        const answer = await damaged.api.post(`/api/missions/${held.id}/approve`).set('Authorization', `Bearer ${TEST_KEYS.reviewer}`).send({});
        expect({ status: answer.status, message: answer.body.message }).toEqual({
          status: 409,
          message: expect.stringContaining(`cannot approve mission ${held.id}: its guest data is damaged`),
        });
        expect((await damaged.store.history(held.id)).map((event) => event.type).slice(held.version)).toEqual(['MissionReviewOverdue']);
      } finally {
        await restore?.();
      }
    });
  });

  describe('given a reply held for review, a reviewer who edits it, and a webhook subscriber', () => {
    let reviewed: InProcessSystem;
    let receiver: WebhookReceiver;
    beforeAll(async () => {
      receiver = await WebhookReceiver.start();
      reviewed = await startInProcessSystem('e2e-guest-data-review', { REVIEW_POLICY_FILE: 'fixtures/review-policy.yaml', STREAM_KEEP_ACKED: 'true' });
    });
    afterAll(async () => {
      await reviewed.close();
      await receiver.close();
    });

    it('then the edit is stored sealed, deliveries carry the data in plain, and after an erasure deliveries show [erased]', async () => {
      const hook = await reviewed.api
        .post('/api/webhooks')
        .send({ url: receiver.url, eventTypes: ['MissionApproved', 'SubjectErased'] })
        .expect(201);
      receiver.secrets = [hook.body.secret];
      const carla = { id: 'g-carla', name: 'Carla Beispiel', email: 'carla@example.net' };
      const shown = await heldForReview(reviewed, carla, 'Is breakfast included?');
      const edited = { ...shown.result?.output, reply: 'Dear Ms Beispiel, breakfast is included.' };
      const approved = await reviewed.api
        .post(`/api/missions/${shown.id}/approve`)
        .set('Authorization', `Bearer ${TEST_KEYS.reviewer}`)
        .send({ output: edited })
        .expect(200);
      expect(approved.body.result.output.reply).toBe(edited.reply);
      expect(approved.body.review.originalOutput.reply).toBe(shown.result?.output.reply);

      const approvedHook = await waitFor(async () => receiver.unique().find((webhook) => webhook.message.type === 'MissionApproved'), {
        timeoutMs: 20_000,
        what: 'the MissionApproved delivery',
      });
      expect((approvedHook.message.data.data as { output: { reply: string } }).output.reply).toBe(edited.reply);

      const dump = await dumpPrefix(reviewed.redis, reviewed.prefix);
      for (const needle of [carla.name, carla.email, 'Is breakfast included?', 'Ms Beispiel', edited.reply])
        expect({ needle, found: dump.includes(needle) }).toEqual({ needle, found: false });

      await reviewed.api.delete('/api/subjects/guest:g-carla').send({ reason: 'erasure request 19' }).expect(200);
      const erasedHook = await waitFor(async () => receiver.unique().find((webhook) => webhook.message.type === 'SubjectErased'), {
        timeoutMs: 20_000,
        what: 'the SubjectErased delivery',
      });
      expect(erasedHook.message.data).toMatchObject({ type: 'SubjectErased', missionId: shown.id, data: { subjectId: 'guest:g-carla' } });
      // A redelivery of the earlier delivery now shows the fields erased.
      const deliveries = (await reviewed.api.get(`/api/webhooks/${hook.body.id}/deliveries`).expect(200)).body.items as { id: string; eventType?: string }[];
      const first = deliveries.find((delivery) => delivery.id === approvedHook.id);
      expect(first).toBeDefined();
      const before = receiver.received.length;
      await reviewed.api.post(`/api/webhooks/${hook.body.id}/deliveries/${approvedHook.id}/redeliver`).expect(202);
      const again = await waitFor(async () => receiver.received.slice(before).find((webhook) => webhook.id === approvedHook.id), {
        timeoutMs: 20_000,
        what: 'the redelivery',
      });
      expect((again.message.data.data as { output: { reply: string } }).output.reply).toBe('[erased]');
    });
  });
});
