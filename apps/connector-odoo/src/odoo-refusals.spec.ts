import { KeyLayout } from '@app/event-store';
import { RejectionCode } from '@app/messages';
import { decideCreate, Mission } from '@app/mission';
import { aCreateInput, deleteKeysByPrefix, FakeOdooServer, MissionHistory, testKeyPrefix, testRedisConnection } from '@app/testing';
import { ConnectorKeys } from './connector-keys';
import { OdooClient } from './odoo-client';
import { OdooRefusals, RefusedRecord } from './odoo-refusals';

/** This instance's token in the poll lock, which it holds in every test but one. */
const LOCK = 'this-instance';
const SKILLS = 'no registered agent has the skill facility_maintenance: nobody could take this mission';

describe('OdooRefusals (real Redis, a fake Odoo on loopback)', () => {
  const redis = testRedisConnection('odoo-refusals-spec');
  let odoo: FakeOdooServer;
  let client: OdooClient;
  let logKeys: KeyLayout;
  let keys: ConnectorKeys;
  let now: number;
  /** Missions that exist in the store, by id. */
  let existing: Map<string, Mission>;
  /** The agents' skill sets, as the registry holds them. */
  let skillSets: string[][];
  const refusalsOf = (odooClient = client) =>
    new OdooRefusals(
      odooClient,
      redis,
      keys,
      logKeys,
      { load: async (id: string) => existing.get(id) ?? null },
      { skillSets: async () => skillSets },
      'note',
      () => now,
    );

  /** What the intake writes to its rejected stream when it refuses a connector's command for `record`. */
  const rejected = (record: { id: number }, missionId: string, reason = SKILLS, code = RejectionCode.NoAgentHasSkills) =>
    redis.xadd(
      logKeys.partitions[0].rejectedSubmissions,
      '*',
      'messageId',
      '1-0',
      'reason',
      reason,
      'code',
      code,
      'rejectedAt',
      new Date(now).toISOString(),
      'data',
      JSON.stringify({
        missionId,
        mission: { type: 'maintenance', title: 't', source: { system: 'odoo', model: 'maintenance.request', recordId: record.id } },
      }),
    );

  /** A mission as the store holds it: sent for `record`, or, without one, by a sender naming no Odoo record. */
  const missionFor = (missionId: string, record?: { id: number }) =>
    new MissionHistory({ missionId }).append(
      decideCreate(aCreateInput(record ? { source: { system: 'odoo', model: 'maintenance.request', recordId: record.id } } : {})),
    );

  beforeAll(async () => {
    odoo = await FakeOdooServer.start();
    client = new OdooClient(odoo.clientConnection(2_000));
  });
  beforeEach(async () => {
    logKeys = new KeyLayout(testKeyPrefix('odoo-refusals'));
    keys = new ConnectorKeys(logKeys);
    await redis.set(keys.pollLock, LOCK);
    now = Date.parse('2026-12-04T10:00:00Z');
    existing = new Map();
    skillSets = [['guest_communication']];
  });
  afterEach(async () => {
    await deleteKeysByPrefix(redis, logKeys.prefix);
  });
  afterAll(async () => {
    await odoo.close();
    await redis.quit();
  });

  it('given two instances reading the same refusal at once, then the record is set aside once, with one note', async () => {
    const record = odoo.create('maintenance.request', { name: 'Sauna heater' });
    await redis.hset(keys.submitted, `maintenance.request:${record.id}`, 'mission-1');
    await rejected(record, 'mission-1');

    const counts = await Promise.all([refusalsOf().readRejected(LOCK), refusalsOf().readRejected(LOCK)]);
    expect(counts.sort()).toEqual([0, 1]);
    expect(await redis.hget(keys.refused, `maintenance.request:${record.id}`)).toBe(SKILLS);
    expect(await redis.hget(keys.submitted, `maintenance.request:${record.id}`)).toBeNull();
    expect(await redis.hlen(keys.refusalNotes)).toBe(1);
    // Read again: the cursor is past it.
    expect(await refusalsOf().readRejected(LOCK)).toBe(0);
  });

  it("given the poll lock passed to another instance, then neither a refusal nor a record sent is written, and the refusal is left to the lock's holder", async () => {
    const record = odoo.create('maintenance.request', { name: 'Sauna heater' });
    const field = `maintenance.request:${record.id}`;
    await rejected(record, 'mission-3');
    await redis.set(keys.pollLock, 'another-instance');
    const refusals = refusalsOf();

    // A round that stalled past its lock used to record the record it sent after the holder had
    // read the refusal and found nothing to set aside: the record stayed "taken in", with no mission.
    expect(await refusals.recordTakenIn(new Map([[field, 'mission-3']]), LOCK)).toBe(false);
    expect(await redis.hget(keys.submitted, field)).toBeNull();
    expect(await refusals.readRejected(LOCK)).toBe(0);
    expect(await redis.hlen(keys.rejectedCursors)).toBe(0);

    // The holder sends the record again, records it, and then reads the refusal.
    expect(await refusals.recordTakenIn(new Map([[field, 'mission-3']]), 'another-instance')).toBe(true);
    expect(await refusals.readRejected('another-instance')).toBe(1);
    expect(await redis.hget(keys.refused, field)).toBe(SKILLS);
  });

  it('given a refusal for skills no agent has, then the record is due to be taken in again once an agent has them, and no longer once it is', async () => {
    const record = odoo.create('maintenance.request', { name: 'Sauna heater' });
    await redis.hset(keys.submitted, `maintenance.request:${record.id}`, 'mission-7');
    await rejected(record, 'mission-7');
    const refusals = refusalsOf();
    expect(await refusals.readRejected(LOCK)).toBe(1);

    expect(await refusals.dueForRetake()).toEqual([]);
    skillSets = [['guest_communication'], ['facility_maintenance', 'plumbing']];
    expect(await refusals.dueForRetake()).toEqual([{ model: 'maintenance.request', recordId: record.id }]);

    await refusals.recordTakenIn(new Map([[`maintenance.request:${record.id}`, 'mission-7']]), LOCK);
    expect(await refusals.dueForRetake()).toEqual([]);
    expect(await redis.hget(keys.submitted, `maintenance.request:${record.id}`)).toBe('mission-7');
    expect(await refusals.list()).toEqual([]);
  });

  it('given a refusal for another reason (its code), then only an edit takes the record in again', async () => {
    const record = odoo.create('maintenance.request', { name: 'Boiler noise' });
    await redis.hset(keys.submitted, `maintenance.request:${record.id}`, 'mission-8');
    await rejected(record, 'mission-8', 'mission text is 40000 bytes, over MAX_MISSION_TEXT_BYTES 32768', RejectionCode.Refused);
    skillSets = [['facility_maintenance']];
    expect(await refusalsOf().readRejected(LOCK)).toBe(1);
    expect(await refusalsOf().dueForRetake()).toEqual([]);
  });

  it('given a refusal of a mission that exists (the record sent again with another body), then the record is not set aside', async () => {
    const record = odoo.create('maintenance.request', { name: 'Leaking tap' });
    await redis.hset(keys.submitted, `maintenance.request:${record.id}`, 'mission-2');
    existing.set('mission-2', missionFor('mission-2', record));
    await rejected(record, 'mission-2', 'this idempotency key (or source record) was used for mission mission-2 with another body');

    expect(await refusalsOf().readRejected(LOCK)).toBe(0);
    expect(await redis.hget(keys.submitted, `maintenance.request:${record.id}`)).toBe('mission-2');
    expect(await refusalsOf().list()).toEqual([]);
  });

  it("given a refusal because another sender's mission holds the id (it named the id first), then the record is set aside with a note, not taken for its own", async () => {
    const record = odoo.create('maintenance.request', { name: 'Broken blind' });
    await redis.hset(keys.submitted, `maintenance.request:${record.id}`, 'mission-13');
    existing.set('mission-13', missionFor('mission-13'));
    const reason = 'this idempotency key (or source record) named mission mission-13, and its record expired';
    await rejected(record, 'mission-13', reason, RejectionCode.Refused);

    expect(await refusalsOf().readRejected(LOCK)).toBe(1);
    expect(await redis.hget(keys.submitted, `maintenance.request:${record.id}`)).toBeNull();
    expect(await refusalsOf().list()).toEqual([{ model: 'maintenance.request', recordId: record.id, reason, notePending: true }]);
    await refusalsOf().postNotes(() => undefined);
    expect(odoo.messagesOf('maintenance.request', record.id)).toEqual([expect.objectContaining({ body: expect.stringContaining('not taken in') })]);
  });

  it('given a note that fails, then it stays pending with the error, holds up no other note, and is posted once when it is due again', async () => {
    const failing = odoo.create('maintenance.request', { name: 'Elevator' });
    const refusals = refusalsOf();
    const failure: RefusedRecord = { model: 'maintenance.request', recordId: failing.id, missionId: 'mission-3', reason: SKILLS };
    await refusals.setAside([failure]);
    odoo.denied.add('mail.message');
    const failed: RefusedRecord[] = [];
    expect(await refusals.postNotes((refusal) => failed.push(refusal))).toBe(0);
    expect(failed).toEqual([failure]);
    expect(await refusals.list()).toEqual([
      { model: 'maintenance.request', recordId: failing.id, reason: SKILLS, notePending: true, noteError: expect.stringMatching(/not allowed/) },
    ]);

    odoo.denied.delete('mail.message');
    const other = odoo.create('maintenance.request', { name: 'Boiler' });
    await refusals.setAside([
      { model: 'maintenance.request', recordId: other.id, missionId: 'mission-4', reason: 'mission.title: title must contain a visible character' },
    ]);
    // The failed note waits for its retry (a minute); the other goes out now.
    expect(await refusals.postNotes(() => undefined)).toBe(1);
    expect(odoo.messagesOf('maintenance.request', other.id)).toHaveLength(1);
    expect(odoo.messagesOf('maintenance.request', failing.id)).toHaveLength(0);

    now += 60_000;
    expect(await refusals.postNotes(() => undefined)).toBe(1);
    expect(await refusals.postNotes(() => undefined)).toBe(0);
    expect(odoo.messagesOf('maintenance.request', failing.id)).toEqual([
      expect.objectContaining({ subtype_xmlid: 'mail.mt_note', body: expect.stringContaining('no registered agent has the skill facility_maintenance') }),
    ]);
    expect(await refusals.list()).toContainEqual({ model: 'maintenance.request', recordId: failing.id, reason: SKILLS, notePending: false });
  });

  it('given a shutdown while a note is searched for in the chatter, then it is no failure: not reported, and due again as it was', async () => {
    const record = odoo.create('maintenance.request', { name: 'Sauna' });
    const stopping = new OdooClient(odoo.clientConnection(2_000));
    const send = stopping.executeKw.bind(stopping);
    jest.spyOn(stopping, 'executeKw').mockImplementation(async (model, method, args, kwargs) => {
      // The SIGTERM comes as the chatter is searched: the call is ended, or refused.
      if (model === 'mail.message') stopping.abortCalls();
      return send(model, method, args, kwargs);
    });
    const refusals = refusalsOf(stopping);
    await refusals.setAside([{ model: 'maintenance.request', recordId: record.id, missionId: 'mission-9', reason: SKILLS }]);
    const failed: RefusedRecord[] = [];

    // It was a failure: a warning, a failure counted, and the note's next attempt a minute later.
    expect(await refusals.postNotes((refusal) => failed.push(refusal))).toBe(0);

    expect(failed).toEqual([]);
    expect(await refusals.list()).toEqual([{ model: 'maintenance.request', recordId: record.id, reason: SKILLS, notePending: true }]);
    expect(await refusalsOf().postNotes(() => undefined)).toBe(1);
  });

  it("given a refusal's note still to post and a newer refusal of the record, then only the newer reason reaches the chatter", async () => {
    const record = odoo.create('maintenance.request', { name: 'Minibar' });
    const refusals = refusalsOf();
    const older: RefusedRecord = { model: 'maintenance.request', recordId: record.id, missionId: 'mission-9', reason: 'no visible title' };
    const newer: RefusedRecord = { ...older, missionId: 'mission-10', reason: 'mission text is 40000 bytes, over MAX_MISSION_TEXT_BYTES 32768' };
    await refusals.setAside([older]);
    odoo.denied.add('mail.message');
    expect(await refusals.postNotes(() => undefined)).toBe(0);
    odoo.denied.delete('mail.message');

    // An edit, refused again for another reason. Both notes used to stay pending: the newer went
    // out at once, the older a minute later, and the chatter ended on a reason no longer true.
    await refusals.setAside([newer]);
    expect(await refusals.postNotes(() => undefined)).toBe(1);
    now += 3_600_000;
    expect(await refusals.postNotes(() => undefined)).toBe(0);
    expect(odoo.messagesOf('maintenance.request', record.id)).toEqual([expect.objectContaining({ body: expect.stringContaining('MAX_MISSION_TEXT_BYTES') })]);
    expect(await refusals.list()).toEqual([{ model: 'maintenance.request', recordId: record.id, reason: newer.reason, notePending: false }]);
  });

  it('given a newer refusal of the record while its older note fails, then the failure is not stored over the newer note', async () => {
    const record = odoo.create('maintenance.request', { name: 'Minibar' });
    const refusals = refusalsOf();
    const older: RefusedRecord = { model: 'maintenance.request', recordId: record.id, missionId: 'mission-11', reason: 'no visible title' };
    const newer: RefusedRecord = { ...older, missionId: 'mission-12', reason: 'mission text is 40000 bytes, over MAX_MISSION_TEXT_BYTES 32768' };
    await refusals.setAside([older]);
    odoo.denied.add('mail.message');
    let replaced: Promise<void> = Promise.resolve();
    // The newer refusal lands between the failed post and the record of its failure.
    expect(await refusals.postNotes(() => void (replaced = refusals.setAside([newer])))).toBe(0);
    await replaced;
    odoo.denied.delete('mail.message');
    expect(await refusals.postNotes(() => undefined)).toBe(1);
    expect(odoo.messagesOf('maintenance.request', record.id)).toEqual([expect.objectContaining({ body: expect.stringContaining('MAX_MISSION_TEXT_BYTES') })]);
  });

  it('given a note to a record deleted meanwhile, then it is dropped, and the record is no longer listed as refused', async () => {
    const record = odoo.create('maintenance.request', { name: 'Broken lamp' });
    const refusals = refusalsOf();
    await refusals.setAside([{ model: 'maintenance.request', recordId: record.id, missionId: 'mission-5', reason: SKILLS }]);
    odoo.unlink('maintenance.request', record.id);
    const failed: unknown[] = [];
    expect(await refusals.postNotes((_, error) => failed.push(error))).toBe(0);
    expect(failed).toEqual([]);
    expect(await redis.hlen(keys.refusalNotes)).toBe(0);
    // It used to stay in `refused`, in GET /connector/refused and the gauge, for ever.
    expect(await refusals.list()).toEqual([]);
    expect(await redis.hlen(keys.refused)).toBe(0);
  });

  it('given a note Odoo refuses as a MissingError about another record, then it is a failure, tried again, not dropped: its own record is there', async () => {
    const record = odoo.create('maintenance.request', { name: 'Bathtub drain' });
    const refusals = refusalsOf();
    await refusals.setAside([{ model: 'maintenance.request', recordId: record.id, missionId: 'mission-13', reason: SKILLS }]);
    // As Odoo answers a post that reads a partner since deleted.
    odoo.failingCalls.set('maintenance.request.message_post', {
      name: 'odoo.exceptions.MissingError',
      message: 'Record does not exist or has been deleted.\n(Record: res.partner(55,), User: 7)',
    });
    const failed: RefusedRecord[] = [];
    try {
      expect(await refusals.postNotes((refusal) => failed.push(refusal))).toBe(0);
    } finally {
      odoo.failingCalls.clear();
    }

    // It was dropped, and the record left the refused list, as if the request were gone.
    expect(failed).toEqual([expect.objectContaining({ recordId: record.id })]);
    expect(await refusals.list()).toEqual([
      { model: 'maintenance.request', recordId: record.id, reason: SKILLS, notePending: true, noteError: expect.stringContaining('res.partner(55,)') },
    ]);
    now += 60_000;
    expect(await refusals.postNotes(() => undefined)).toBe(1);
    expect(odoo.messagesOf('maintenance.request', record.id)).toHaveLength(1);
  });

  it('given a record taken in after all (an edit made it valid), then it is no longer refused, and its note is not posted', async () => {
    const record = odoo.create('maintenance.request', { name: '\u200b' });
    const refusals = refusalsOf();
    await refusals.setAside([{ model: 'maintenance.request', recordId: record.id, missionId: 'mission-6', reason: 'no visible title' }]);
    await refusals.recordTakenIn(new Map([[`maintenance.request:${record.id}`, 'mission-6']]), LOCK);
    expect(await refusals.list()).toEqual([]);
    expect(await refusals.postNotes(() => undefined)).toBe(0);
    expect(odoo.messagesOf('maintenance.request', record.id)).toEqual([]);
  });
});
