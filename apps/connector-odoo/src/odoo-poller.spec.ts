import { KeyLayout } from '@app/event-store';
import { MissionClient } from '@app/mission-client';
import { decodeMessage } from '@app/redis-streams';
import { deleteKeysByPrefix, FakeOdooServer, testKeyPrefix, testRedisConnection, waitFor } from '@app/testing';
import { ConnectorKeys } from './connector-keys';
import { OdooClient } from './odoo-client';
import { loadOdooMapping } from './odoo-mapping';
import { OdooMissionIdentity } from './odoo-mission-identity';
import { OdooPollError } from './odoo-poll-error';
import { NOT_DUE, OdooPoller, OdooPollerOptions } from './odoo-poller';
import { OdooRefusals, recordField } from './odoo-refusals';

const POLL_MS = 200;
const TIMEOUT_MS = 1_000;
/** ODOO_LOOKBACK_MS: the fake Odoo's writes are a second apart. */
const LOOKBACK_MS = 60_000;
/** Half a period: how long a round's lock is kept after it. */
const TURN_MS = POLL_MS / 2;

/** A record's write_date (the second Odoo keeps, UTC) as an instant. */
const odooTime = (record: { write_date: string }) => Date.parse(`${record.write_date.slice(0, 19).replace(' ', 'T')}Z`);

describe('OdooPoller (real Redis, a fake Odoo on loopback)', () => {
  const redis = testRedisConnection('odoo-poller-spec');
  let odoo: FakeOdooServer;
  let logKeys: KeyLayout;
  let keys: ConnectorKeys;

  const clientOf = () => new OdooClient(odoo.clientConnection(TIMEOUT_MS));
  /** The refusals of an Odoo connector whose agents have `skillSets`. */
  const refusalsOf = (skillSets: string[][] = []) =>
    new OdooRefusals(clientOf(), redis, keys, logKeys, { load: async () => null }, { skillSets: async () => skillSets }, 'note');
  /** `options` beside the spec's own; ODOO_SINCE early by default: most tests write their records first. */
  const pollerOf = (refusals = refusalsOf(), missions = new MissionClient(redis, logKeys.prefix, 1), options: Partial<OdooPollerOptions> = {}) => {
    return new OdooPoller(
      clientOf(),
      missions,
      redis,
      keys,
      loadOdooMapping(),
      refusals,
      {
        pollMs: POLL_MS,
        timeoutMs: TIMEOUT_MS,
        maxMissionTextBytes: 32_768,
        lookbackMs: LOOKBACK_MS,
        onNoteFailure: () => undefined,
        since: Date.parse('2000-01-01T00:00:00Z'),
        ...options,
      },
      new OdooMissionIdentity(odoo.apiKey),
    );
  };

  /** One round of a new instance with `options`, the lock freed first; a rule failing (a model this fake Odoo lacks) is no matter. */
  const pollOnce = async (options: Partial<OdooPollerOptions>) => {
    await redis.del(keys.pollLock);
    await pollerOf(undefined, undefined, options)
      .poll()
      .catch(() => undefined);
  };

  beforeEach(async () => {
    odoo = await FakeOdooServer.start();
    logKeys = new KeyLayout(testKeyPrefix('odoo-poller'));
    keys = new ConnectorKeys(logKeys);
  });
  afterEach(async () => {
    odoo.outage = null;
    await odoo.close();
    await deleteKeysByPrefix(redis, logKeys.prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('given a round slower than half a period (an Odoo call hanging), then its lock lasts as long as the round, and no other instance starts one', async () => {
    const first = pollerOf();
    const second = pollerOf();
    odoo.outage = 'hang';
    const round = first.poll().catch((error: unknown) => error);
    // The lock used to live half a period from the round's start, whatever the round did then: a
    // second instance could start its own round while the first was still sending and reading.
    const ttl = await waitFor(async () => ((await redis.pttl(keys.pollLock)) > TURN_MS ? redis.pttl(keys.pollLock) : null), {
      timeoutMs: 5_000,
      what: 'the round to renew its lock past half a period',
    });
    expect(ttl).toBeGreaterThan(TIMEOUT_MS);
    expect(await second.poll()).toBeNull();

    odoo.outage = null;
    await round;
    // After the round, kept for half a period, as before: the instances take turns.
    const after = await redis.pttl(keys.pollLock);
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThanOrEqual(TURN_MS);
    expect(await second.poll()).toBeNull();
  });

  it("given a round just made, then this instance's next poll within half a period is not due, and another instance's is its turn to wait", async () => {
    // A turn long enough that the test's own steps do not outlast it.
    const first = pollerOf(undefined, undefined, { pollMs: 10_000 });
    const second = pollerOf(undefined, undefined, { pollMs: 10_000 });
    // Rules failing (models this fake Odoo lacks) fail the round: one retried sooner than half a period.
    await expect(first.poll()).rejects.toThrow(/doesn't exist/);
    // Its own lock was "another instance's turn": a single instance retrying after a failure checked its login instead, and was ready.
    expect(await first.poll()).toBe(NOT_DUE);
    expect(await second.poll()).toBeNull();
  });

  it('given records written before the connector first started, then none becomes a mission, not even within ODOO_LOOKBACK_MS, nor after a restart; those written after do', async () => {
    const history = [1, 2, 3].map((n) => odoo.create('helpdesk.ticket', { name: `Old request ${n}`, team_id: [3, 'Front Desk'] }));
    const startedAt = odooTime(history[2]) + 1_000;
    // This fake Odoo has no maintenance.request: that rule fails, the others read on.
    const poll = (at: number) => pollOnce({ since: null, clock: () => at });

    // It read from the oldest record: on a production Odoo every ticket it ever had became a mission.
    await poll(startedAt);
    expect(await redis.hkeys(keys.submitted)).toEqual([]);
    // A restart before the first new record: its start stays where the first poll put it.
    await poll(startedAt + 60_000);
    const fresh = odoo.create('helpdesk.ticket', { name: 'Towels for 118', team_id: [3, 'Front Desk'] });
    await poll(startedAt + 60_000);
    // Once more with a cursor: the look back (60 s) stops at the start too.
    await poll(startedAt + 60_000);
    expect(await redis.hkeys(keys.submitted)).toEqual([recordField({ model: 'helpdesk.ticket', recordId: fresh.id })]);
  }, 10_000);

  it('given ODOO_SINCE, then a rule with no cursor takes in the records written from then on, the older ones not', async () => {
    const [, ...since] = [1, 2, 3].map((n) => odoo.create('helpdesk.ticket', { name: `Request ${n}`, team_id: [3, 'Front Desk'] }));

    await pollerOf(undefined, undefined, { since: odooTime(since[0]) })
      .poll()
      .catch(() => undefined);

    expect((await redis.hkeys(keys.submitted)).sort()).toEqual(since.map((record) => recordField({ model: 'helpdesk.ticket', recordId: record.id })).sort());
  });

  it('given ODOO_SINCE unset after a rule began reading from it, then the look back still stops at it: no record written before becomes a mission', async () => {
    const history = [1, 2, 3].map((n) => odoo.create('helpdesk.ticket', { name: `Old request ${n}`, team_id: [3, 'Front Desk'] }));
    const since = odooTime(history[2]) + 1_000;
    await pollOnce({ since });
    const fresh = odoo.create('helpdesk.ticket', { name: 'Towels for 119', team_id: [3, 'Front Desk'] });
    await pollOnce({ since });

    // ODOO_SINCE unset: the look back (60 s) read from the start stored for no ODOO_SINCE, which was none.
    await pollOnce({ since: null, clock: () => since + 60_000 });

    expect(await redis.hkeys(keys.submitted)).toEqual([recordField({ model: 'helpdesk.ticket', recordId: fresh.id })]);
  });

  it("given ODOO_SINCE set later than a rule's cursor, then the rule keeps its place, and the look back still takes in a record that committed late", async () => {
    const before = odoo.create('maintenance.request', { name: 'Leaking tap in 104', description: 'Drips.' });
    const mailed = odoo.createInLongTransaction('maintenance.request', { name: 'No hot water in 105', description: 'Cold shower.' });
    const after = odoo.create('maintenance.request', { name: 'Broken lamp in 106', description: 'Dark.' });
    await pollOnce({ since: odooTime(before) });
    mailed.commit();

    // Set later than the cursor, ODOO_SINCE emptied the look back's window, and the late record was lost.
    await pollOnce({ since: odooTime(after) + 60_000 });

    const field = (record: { id: number }) => recordField({ model: 'maintenance.request', recordId: record.id });
    expect((await redis.hkeys(keys.submitted)).sort()).toEqual([field(before), field(mailed.record), field(after)].sort());
  });

  it('given an Odoo that answers search_read outside the domain, when a round reads the rules, then the rule fails with an error naming its model, and the round ends', async () => {
    const ticket = odoo.create('helpdesk.ticket', { name: 'Late check-out for 118', team_id: [3, 'Front Desk'] });
    odoo.create('maintenance.request', { name: 'AC broken in 204', description: 'Warm air.' });
    odoo.ignoresDomains = true;

    const error = await pollerOf()
      .poll()
      .catch((thrown: unknown) => thrown);

    // The cursor went back and forth between `<second>|0` and `<second>|<id>` without end: the round never ended.
    expect(String(error)).toMatch(/^Error: Odoo's search_read on helpdesk\.ticket answered records outside the domain/);
    expect(odoo.calls.filter((call) => call.endsWith('.search_read')).length).toBeLessThan(20);
    // The cursor stays at the record taken in: the next round does not go back before it.
    expect(await redis.hget(keys.cursors, 'guest-tickets')).toMatch(new RegExp(`\\|${ticket.id}$`));
  }, 10_000);

  it('given a record whose write_date is no date and time, then the rule fails naming it and keeps no cursor; once the record is fixed, it reads on', async () => {
    const ticket = odoo.create('helpdesk.ticket', { name: 'Late check-out for 118', team_id: [3, 'Front Desk'] });
    const written = ticket.write_date;
    ticket.write_date = 'garbage';

    const error = await pollerOf()
      .poll()
      .catch((thrown: unknown) => thrown);

    expect(String(error)).toContain(`Odoo's search_read on helpdesk.ticket gave record ${ticket.id} the write_date "garbage", which is no date and time`);
    // It was stored as the cursor (`garbage|0`): every later round failed on it, the record fixed or gone, until deleted by hand.
    expect(await redis.hget(keys.cursors, 'guest-tickets')).toBeNull();
    ticket.write_date = written;
    // The next round, without waiting out the lock this one keeps for half a period.
    await redis.del(keys.pollLock);
    // This fake Odoo has no maintenance.request: that rule fails, the others read on.
    await expect(pollerOf().poll()).rejects.toThrow(/^rule maintenance-requests: .*maintenance\.request doesn't exist/);
    expect(await redis.hget(keys.cursors, 'guest-tickets')).toMatch(new RegExp(`\\|${ticket.id}$`));
  }, 10_000);

  it('given a record whose write_date is years ahead, then the rule reads the records before it, names it, and still takes in those written after', async () => {
    const before = odoo.create('helpdesk.ticket', { name: 'Towels for 118', team_id: [3, 'Front Desk'] });
    const ahead = odoo.create('helpdesk.ticket', { name: 'Keycard for 204', team_id: [3, 'Front Desk'] });
    ahead.write_date = '2099-01-01 00:00:00.000000';
    const poll = async () => {
      await redis.del(keys.pollLock);
      return pollerOf()
        .poll()
        .catch((thrown: unknown) => String(thrown));
    };

    expect(await poll()).toContain(`gave record ${ahead.id} the write_date "2099-01-01 00:00:00", more than an hour ahead of this connector's clock`);
    // The cursor moved to 2099: a ticket written after it, at today's time, was never read, and nothing said so.
    const after = odoo.create('helpdesk.ticket', { name: 'Late check-out for 312', team_id: [3, 'Front Desk'] });
    await poll();
    const taken = await redis.hkeys(keys.submitted);
    expect(taken).toEqual(expect.arrayContaining([before, after].map((record) => recordField({ model: 'helpdesk.ticket', recordId: record.id }))));
    expect(taken).not.toContain(recordField({ model: 'helpdesk.ticket', recordId: ahead.id }));
    expect(await redis.hget(keys.cursors, 'guest-tickets')).toMatch(new RegExp(`\\|${after.id}$`));
  }, 10_000);

  it('given an Odoo that answers search_read outside the domain with a full page, when a round reads again before the cursor, then that too ends with the error', async () => {
    for (let i = 0; i < 100; i++) odoo.create('helpdesk.ticket', { name: `Towels for ${100 + i}`, team_id: [3, 'Front Desk'] });
    odoo.ignoresDomains = true;
    const poller = pollerOf();
    await poller.poll().catch(() => undefined);
    await redis.del(keys.pollLock);
    const before = odoo.calls.length;

    // The look-back read the same page after the same id without end; its records are older than the window, so the first page is refused.
    const error = await poller.poll().catch((thrown: unknown) => thrown);

    expect(String(error)).toMatch(
      /^Error: Odoo's search_read on helpdesk\.ticket answered records outside the domain asked for: the rule's reading would go from id 0 to id 100,/,
    );
    expect(odoo.calls.length - before).toBeLessThan(20);
  }, 10_000);

  it('given an Odoo that answers records outside the window a read asked for, then none of them is taken in: the rule fails first', async () => {
    odoo.create('helpdesk.ticket', { name: 'Late check-out for 118', team_id: [3, 'Front Desk'] });
    odoo.create('maintenance.request', { name: 'AC broken in 204', description: 'Warm air.' });
    const poller = pollerOf();
    await poller.poll();
    await redis.del(keys.pollLock);
    const taken = await redis.hlen(keys.submitted);
    // A ticket of another team, and one written long after: the rule's reading must not take them in.
    odoo.create('helpdesk.ticket', { name: 'Invoice question', team_id: [9, 'Accounting'] });
    odoo.ignoresDomains = true;

    const error = await poller.poll().catch((thrown: unknown) => thrown);

    expect(String(error)).toMatch(/answered records outside the domain asked for/);
    // They were sent as missions before the rule failed.
    expect(await redis.hlen(keys.submitted)).toBe(taken);
  }, 10_000);

  it('given a round whose lock another instance holds meanwhile, then it stops at its next step', async () => {
    const poller = pollerOf();
    odoo.create('maintenance.request', { name: 'AC broken in 204', description: 'Warm air.', priority: '1' });
    odoo.outage = 'hang';
    const round = poller.poll();
    await waitFor(async () => ((await redis.pttl(keys.pollLock)) > TURN_MS ? true : null), { timeoutMs: 5_000, what: 'the round to start' });
    // As if the lock had lapsed during the hanging call and another instance had taken it.
    await redis.set(keys.pollLock, 'another-instance', 'PX', 10_000);
    odoo.outage = null;
    await round.catch(() => undefined);
    expect(await redis.get(keys.pollLock)).toBe('another-instance');
    // The rules after the one that hung were left to the lock's holder: nothing was taken in.
    expect(await redis.hlen(keys.submitted)).toBe(0);
  });

  it('given a record whose transaction began before records written after it and committed after a poll read them, then the next poll takes it in, once', async () => {
    const poller = pollerOf();
    const poll = () => poller.poll().catch((error: unknown) => expect(error).toBeInstanceOf(OdooPollError)); // no helpdesk.ticket here
    const before = odoo.create('maintenance.request', { name: 'Leaking tap in 101', description: 'Drips.' });
    // The mail gateway's transaction: id and write_date taken now, committed later.
    const mailed = odoo.createInLongTransaction('maintenance.request', { name: 'No hot water in 102', description: 'Cold shower.' });
    const after = odoo.create('maintenance.request', { name: 'Broken lamp in 103', description: 'Dark.' });
    await redis.del(keys.pollLock);
    await poll();
    const taken = async () => (await redis.hkeys(keys.submitted)).sort();
    const field = (record: { id: number }) => recordField({ model: 'maintenance.request', recordId: record.id });
    expect(await taken()).toEqual([field(before), field(after)].sort());

    mailed.commit();
    await redis.del(keys.pollLock);
    await poll();
    // The cursor had passed its write_date and id: it was never read.
    expect(await taken()).toEqual([field(before), field(mailed.record), field(after)].sort());
    const sent = await redis.xlen(logKeys.partitions[0].stream('intake'));
    await redis.del(keys.pollLock);
    await poll();
    expect(await redis.xlen(logKeys.partitions[0].stream('intake'))).toBe(sent);
  });

  it('given the shipped mapping on a standard Odoo, then every rule runs, and a ticket without a helpdesk team is taken in as guest support', async () => {
    // The fields a standard Odoo has: the maintenance rule asked for x_room, a custom field, and
    // failed every poll on an Odoo without it.
    odoo.declareFields('helpdesk.ticket', ['name', 'description', 'priority', 'partner_id', 'partner_email', 'team_id', 'stage_id', 'write_date']);
    odoo.declareFields('maintenance.request', ['name', 'description', 'priority', 'equipment_id', 'owner_user_id', 'stage_id', 'write_date']);
    // As in Odoo, `team_id.name != 'Revenue Management'` left out every ticket without a team: never taken in.
    const untriaged = odoo.create('helpdesk.ticket', { name: 'Extra pillow for 207', description: 'Two more, please.' });
    const pricing = odoo.create('helpdesk.ticket', { name: 'Group rate for May', description: '12 rooms.', team_id: [2, 'Revenue Management'] });
    odoo.create('maintenance.request', { name: 'Leaking tap in 101', description: 'Drips.' });
    await expect(pollerOf().poll()).resolves.toBe(3);
    const sent = (await redis.xrange(logKeys.partitions[0].stream('intake'), '-', '+')).map(([id, fields]) => decodeMessage(id, fields).data);
    const typeOf = (recordId: number) =>
      (sent as { mission: { type: string; source: { model: string; recordId: number } } }[]).find(
        ({ mission }) => mission.source.model === 'helpdesk.ticket' && mission.source.recordId === recordId,
      )?.mission.type;
    expect([typeOf(untriaged.id), typeOf(pricing.id)]).toEqual(['guest_support', 'pricing']);
  });

  it('given a round whose lock passes to another instance while it sends records, then it records none of them, and the next round sends and records them', async () => {
    const record = odoo.create('maintenance.request', { name: 'AC broken in 204', description: 'Warm air.' });
    const missions = new MissionClient(redis, logKeys.prefix, 1);
    const send = missions.createMany.bind(missions);
    const stalled = jest.spyOn(missions, 'createMany').mockImplementationOnce(async (commands) => {
      // As if the round stalled past its lock while sending, and another instance took the lock.
      await redis.set(keys.pollLock, 'another-instance', 'PX', 10_000);
      return send(commands);
    });
    const poller = pollerOf(refusalsOf(), missions);

    // It resolved 0, a poll that succeeded, whose instance then wrote a success into the shared status over another's failure.
    expect(await poller.poll()).toBeNull();
    // It used to record the record after the holder may have read its refusal: a refusal lost.
    expect(await redis.hlen(keys.submitted)).toBe(0);
    expect(await redis.hget(keys.cursors, 'maintenance-requests')).not.toMatch(new RegExp(`\\|${record.id}$`));
    expect(await redis.get(keys.pollLock)).toBe('another-instance');

    await redis.del(keys.pollLock);
    // This fake Odoo has no helpdesk.ticket: those rules fail, the maintenance rule runs.
    await poller.poll().catch((error: unknown) => expect(error).toBeInstanceOf(OdooPollError));
    expect(stalled).toHaveBeenCalledTimes(2);
    expect(await redis.hget(keys.submitted, recordField({ model: 'maintenance.request', recordId: record.id }))).not.toBeNull();
  });

  it("given a retake whose rule fails, then the round names it, and the rules after it are retaken and the other records' notes posted", async () => {
    const ticket = odoo.create('helpdesk.ticket', { name: 'Late check-out for 118', team_id: [3, 'Front Desk'] });
    const pump = odoo.create('maintenance.request', { name: 'Pool pump noisy', description: 'Rattles at night.' });
    const lamp = odoo.create('maintenance.request', { name: 'Broken lamp in 204' });
    const refusals = refusalsOf([['facility_maintenance', 'guest_communication']]);
    const poller = pollerOf(refusals);
    // The records are taken in, then refused: the ticket and the pump for skills an agent has now, the lamp with a note to post.
    await poller.poll().catch(() => undefined);
    const forSkills = { skills: ['facility_maintenance'] };
    await redis.hset(
      keys.refusedForSkills,
      recordField({ model: 'helpdesk.ticket', recordId: ticket.id }),
      JSON.stringify({ skills: ['guest_communication'] }),
    );
    await redis.hset(keys.refusedForSkills, recordField({ model: 'maintenance.request', recordId: pump.id }), JSON.stringify(forSkills));
    await refusals.setAside([{ model: 'maintenance.request', recordId: lamp.id, missionId: 'mission-lamp', reason: 'no visible title' }]);
    await redis.hdel(keys.submitted, recordField({ model: 'maintenance.request', recordId: pump.id }));
    await redis.del(keys.pollLock);
    odoo.denied.add('helpdesk.ticket');

    const error = await poller.poll().catch((thrown: unknown) => thrown);

    // The retake used to throw at the first helpdesk rule: no retake after it, and no note at all.
    expect(error).toBeInstanceOf(OdooPollError);
    expect((error as OdooPollError).failures).toContainEqual(expect.stringMatching(/^retake for rule pricing-requests: .*not allowed/));
    expect(await redis.hget(keys.submitted, recordField({ model: 'maintenance.request', recordId: pump.id }))).not.toBeNull();
    expect(await redis.hexists(keys.refusedForSkills, recordField({ model: 'maintenance.request', recordId: pump.id }))).toBe(0);
    expect(odoo.messagesOf('maintenance.request', lamp.id)).toEqual([expect.objectContaining({ body: expect.stringContaining('no visible title') })]);
    // The ticket's rules could not read it: it is still due, not forgotten as if deleted.
    expect(await redis.hexists(keys.refusedForSkills, recordField({ model: 'helpdesk.ticket', recordId: ticket.id }))).toBe(1);
  });
});
