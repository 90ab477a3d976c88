import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { decideCreate, MissionCreateDto } from '@app/mission';
import { deleteKeysByPrefix, FakeOdooServer, startPrivateRedis, testKeyPrefix, testPersonalData, testRedisConnection, waitFor } from '@app/testing';
import { ConnectorKeys } from './connector-keys';
import { uncertainPostSettleMs } from './odoo-chatter';
import { OdooClient } from './odoo-client';
import { loadOdooMapping } from './odoo-mapping';
import { chatterBody, OdooWriteBack, textAsHtml } from './odoo-write-back';

const TIMEOUT_MS = 1_000;

describe('OdooWriteBack (real Redis, a fake Odoo on loopback)', () => {
  const redis = testRedisConnection('odoo-write-back-spec');
  let odoo: FakeOdooServer;
  let logKeys: KeyLayout;
  let keys: ConnectorKeys;
  let store: MissionStore;
  /** The instances' shared clock (ms): claims lapse by it. */
  let now: number;

  const clientOf = () => new OdooClient(odoo.clientConnection(TIMEOUT_MS));
  const instance = (client = clientOf()) =>
    new OdooWriteBack(client, store, redis, keys, loadOdooMapping(), testPersonalData(redis, logKeys.prefix), {
      postAs: 'note',
      backoffMs: 1_000,
      timeoutMs: TIMEOUT_MS,
      clock: () => now,
    });
  /** A mission made by `create` from the record `source` (`<model>|<id>`), whose result is to be posted now. */
  const writeBackOf = async (missionId: string, source: string, create: MissionCreateDto) => {
    const created = await store.append(missionId, null, decideCreate(create), { actor: 'test' });
    if (created.code !== AppendCode.Ok) throw new Error(`create ${missionId} failed`);
    await redis.hset(keys.sources, missionId, source);
    await redis.zadd(keys.due, now, missionId);
  };
  /** A mission of a helpdesk ticket whose result is to be posted now. */
  const dueWriteBack = (missionId: string, recordId: number) =>
    writeBackOf(missionId, `helpdesk.ticket|${recordId}`, {
      type: 'guest_support',
      title: `Ticket ${recordId}`,
      description: 'Towels.',
      priority: 'normal',
      payload: {},
    });

  /** A client whose post to the record hangs until released, as on a slow Odoo; `sent` once it is. */
  const holdingPostTo = (recordId: number) => {
    const client = clientOf();
    const send = client.executeKw.bind(client);
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let hanging: () => void = () => undefined;
    const sent = new Promise<void>((resolve) => (hanging = resolve));
    jest.spyOn(client, 'executeKw').mockImplementation(async (model, method, args, kwargs) => {
      if (method === 'message_post' && (args as number[][])[0][0] === recordId) {
        hanging();
        await released;
      }
      return send(model, method, args, kwargs);
    });
    return { client, sent, release };
  };
  /** A mission of a maintenance request (the rule that may move its stage) whose result is to be posted now. */
  const maintenanceWriteBack = (missionId: string, recordId: number) =>
    writeBackOf(missionId, `maintenance.request|${recordId}`, {
      type: 'maintenance',
      title: `Request ${recordId}`,
      description: 'Reading lamp.',
      priority: 'normal',
      payload: { odoo: { rule: 'maintenance-requests' } },
    });
  /** The shipped mapping, its maintenance rule moving the stage to `value` on success. */
  const withStage = (value: number) => {
    const shipped = loadOdooMapping();
    return {
      ...shipped,
      rules: shipped.rules.map((rule) => (rule.name === 'maintenance-requests' ? { ...rule, stageOnSuccess: { field: 'stage_id', value } } : rule)),
    };
  };
  const instanceWith = (mapping: ReturnType<typeof loadOdooMapping>, client = clientOf()) =>
    new OdooWriteBack(client, store, redis, keys, mapping, testPersonalData(redis, logKeys.prefix), {
      postAs: 'note',
      backoffMs: 1_000,
      timeoutMs: TIMEOUT_MS,
      clock: () => now,
    });

  beforeEach(async () => {
    odoo = await FakeOdooServer.start();
    logKeys = new KeyLayout(testKeyPrefix('odoo-write-back'));
    keys = new ConnectorKeys(logKeys);
    store = new MissionStore(redis, logKeys);
    now = Date.parse('2026-05-01T10:00:00Z');
  });
  afterEach(async () => {
    // A test that fails before it restores its spy must not take the next one's warnings.
    jest.restoreAllMocks();
    await odoo.close();
    await deleteKeysByPrefix(redis, logKeys.prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it("given one instance slow in Odoo, when another runs past two calls of time, then it takes up none of the first one's write-backs, and each result is posted once", async () => {
    const [first, second] = [odoo.create('helpdesk.ticket', { name: 'Towels for 101' }), odoo.create('helpdesk.ticket', { name: 'Towels for 102' })];
    await dueWriteBack('m-1', first.id);
    await dueWriteBack('m-2', second.id);
    // Instance A's first post hangs until released, as on a slow Odoo.
    const { client: slowClient, sent: hangs, release } = holdingPostTo(first.id);
    const a = instance(slowClient).runOnce();
    await hangs;

    // Instance B runs when two calls' time has passed: A claimed both for that long, and B took both up.
    now += 2 * TIMEOUT_MS + 1;
    await instance().runOnce();
    release();
    await a;

    expect(odoo.messagesOf('helpdesk.ticket', first.id)).toHaveLength(1);
    expect(odoo.messagesOf('helpdesk.ticket', second.id)).toHaveLength(1);
    expect((await redis.hkeys(keys.posted)).sort()).toEqual(['m-1', 'm-2']);
  });

  it('given an instance killed while its post is under way, then no other takes the write-back up before Odoo could still commit that post, and it is posted once', async () => {
    const ticket = odoo.create('helpdesk.ticket', { name: 'Towels for 110' });
    await dueWriteBack('m-1', ticket.id);
    // The killed instance's post: Odoo holds it, and commits it later (a SIGKILL records nothing).
    const { client: killed, sent, release } = holdingPostTo(ticket.id);
    const run = instance(killed).runOnce();
    await sent;

    // Past six calls' time (the claim, 90 s by default): the next instance searched, found nothing, and posted.
    now += 6 * TIMEOUT_MS + 1;
    await expect(instance().runOnce()).resolves.toBe(0);
    release();
    await run;
    // Past the settle time: the post committed is found and recorded, not posted again.
    now += uncertainPostSettleMs(TIMEOUT_MS);
    await instance().runOnce();

    expect(odoo.messagesOf('helpdesk.ticket', ticket.id)).toHaveLength(1);
    expect(await redis.hget(keys.posted, 'm-1')).toBe(String(odoo.messagesOf('helpdesk.ticket', ticket.id)[0].id));
  });

  it('given a post Odoo commits after the client gave up on it, when the write-back is retried at once, then it is not posted again, and is recorded once the post is found', async () => {
    const ticket = odoo.create('helpdesk.ticket', { name: 'Towels for 105' });
    await dueWriteBack('m-1', ticket.id);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // Odoo makes the post, and answers, after the client's ODOO_TIMEOUT_MS.
    odoo.slowCalls.set('helpdesk.ticket.message_post', TIMEOUT_MS + 500);

    await expect(instance().runOnce()).resolves.toBe(0);
    odoo.slowCalls.clear();
    // The retry, its backoff passed and the post not committed yet: its search found nothing, and it posted a second.
    now += 10_000;
    await expect(instance().runOnce()).resolves.toBe(0);
    await waitFor(async () => odoo.messagesOf('helpdesk.ticket', ticket.id).length > 0, { timeoutMs: 5_000, what: 'the slow post to commit' });
    expect(await instance().delayed()).toEqual([expect.objectContaining({ missionId: 'm-1', lastError: expect.stringContaining('Odoo may still commit it') })]);
    now += uncertainPostSettleMs(TIMEOUT_MS);
    await expect(instance().runOnce()).resolves.toBe(1);
    warn.mockRestore();

    const posts = odoo.messagesOf('helpdesk.ticket', ticket.id);
    expect(posts).toHaveLength(1);
    expect(await redis.hget(keys.posted, 'm-1')).toBe(String(posts[0].id));
    expect(await instance().delayed()).toEqual([]);
  });

  it('given a post with no answer that Odoo never made, then it is posted again once a search long enough after it finds nothing, and not before', async () => {
    const ticket = odoo.create('helpdesk.ticket', { name: 'Towels for 106' });
    await dueWriteBack('m-1', ticket.id);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    odoo.slowCalls.set('helpdesk.ticket.message_post', Infinity);

    await expect(instance().runOnce()).resolves.toBe(0);
    odoo.slowCalls.clear();
    now += 10_000;
    await expect(instance().runOnce()).resolves.toBe(0);
    expect(odoo.messagesOf('helpdesk.ticket', ticket.id)).toEqual([]);
    now += uncertainPostSettleMs(TIMEOUT_MS);
    await expect(instance().runOnce()).resolves.toBe(1);
    warn.mockRestore();

    expect(odoo.messagesOf('helpdesk.ticket', ticket.id)).toHaveLength(1);
  });

  it('given a post under way when the connector stops, then the next instance does not post it again before a search long after finds nothing', async () => {
    const ticket = odoo.create('helpdesk.ticket', { name: 'Towels for 107' });
    await dueWriteBack('m-1', ticket.id);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    odoo.slowCalls.set('helpdesk.ticket.message_post', 800);
    const client = clientOf();
    const stopping = instance(client);
    const run = stopping.runOnce();
    await waitFor(async () => odoo.heldCalls.includes('helpdesk.ticket.message_post'), { timeoutMs: 5_000, what: 'the post to be under way' });

    // The stop ends the post's call: sent, so its outcome is unknown, as a timeout's.
    await stopping.stop();
    client.abortCalls();
    await expect(run).resolves.toBe(0);
    odoo.slowCalls.clear();
    await expect(instance().runOnce()).resolves.toBe(0);
    await waitFor(async () => odoo.messagesOf('helpdesk.ticket', ticket.id).length > 0, { timeoutMs: 5_000, what: 'the post to commit' });
    now += uncertainPostSettleMs(TIMEOUT_MS);
    await expect(instance().runOnce()).resolves.toBe(1);

    expect(odoo.messagesOf('helpdesk.ticket', ticket.id)).toHaveLength(1);
  });

  it('given a stage change Odoo refuses as a MissingError about the stage, then the posted result is recorded, not given up, and the stage is listed as failing on its own', async () => {
    const request = odoo.create('maintenance.request', { name: 'Bulb out in 402', stage_id: 1 });
    await maintenanceWriteBack('m-1', request.id);
    const mapping = withStage(999);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const writeBack = () => instanceWith(mapping);
    // As Odoo answers a write naming a stage since deleted.
    odoo.failingCalls.set('maintenance.request.write', {
      name: 'odoo.exceptions.MissingError',
      message: 'Record does not exist or has been deleted.\n(Record: maintenance.stage(999,), User: 7)',
    });

    // It was given up as if the request were gone: OdooWriteBackAbandoned, and no OdooResultPosted for a result in its chatter.
    await expect(writeBack().runOnce()).resolves.toBe(1);
    const [post] = odoo.messagesOf('maintenance.request', request.id);
    expect(await redis.hget(keys.posted, 'm-1')).toBe(String(post.id));
    expect(await writeBack().abandoned()).toEqual([]);
    const events = (await redis.xrange(keys.events, '-', '+')).map(([, fields]) => JSON.parse(fields[1]) as { type: string });
    expect(events.map((event) => event.type)).toEqual(['OdooResultPosted']);
    expect(await writeBack().delayed()).toEqual([
      expect.objectContaining({
        missionId: 'm-1',
        lastError: expect.stringMatching(/^the result is posted; moving stage_id to 999 failed: [^]*maintenance\.stage\(999,\)/),
      }),
    ]);

    // Once Odoo takes the stage, it is moved, and nothing is posted again.
    odoo.failingCalls.clear();
    now += 60_000;
    await expect(writeBack().runOnce()).resolves.toBe(0);
    expect(request.stage_id).toBe(999);
    expect(await writeBack().delayed()).toEqual([]);
    expect(await redis.zcard(keys.due)).toBe(0);
    expect(odoo.messagesOf('maintenance.request', request.id)).toHaveLength(1);
  });

  it('given a shutdown while the stage is being changed, then the stage change stays queued, and the next instance makes it without posting again', async () => {
    const request = odoo.create('maintenance.request', { name: 'Bulb out in 403', stage_id: 1 });
    await maintenanceWriteBack('m-1', request.id);
    const mapping = withStage(3);
    const client = clientOf();
    const stopping = instanceWith(mapping, client);
    const send = client.executeKw.bind(client);
    // The SIGTERM comes while the stage change is to be sent: the client refuses it, the connector is stopping.
    jest.spyOn(client, 'executeKw').mockImplementation(async (model, method, args, kwargs) => {
      if (method === 'write') {
        await stopping.stop();
        client.abortCalls();
      }
      return send(model, method, args, kwargs);
    });

    await expect(stopping.runOnce()).resolves.toBe(1);
    expect(request.stage_id).toBe(1);
    // It was off the queue and out of the failures: no instance ever moved the stage.
    expect(await redis.zcard(keys.due)).toBe(1);
    // Still to make, and not failed: not listed as failing.
    expect(await instanceWith(mapping).delayed()).toEqual([]);
    // Once the claim has lapsed.
    now += uncertainPostSettleMs(TIMEOUT_MS) + 1;
    await expect(instanceWith(mapping).runOnce()).resolves.toBe(0);

    expect(request.stage_id).toBe(3);
    expect(odoo.messagesOf('maintenance.request', request.id)).toHaveLength(1);
    expect(await redis.zcard(keys.due)).toBe(0);
    expect(await instanceWith(mapping).delayed()).toEqual([]);
  });

  it('given a stage change still to make on a record since deleted, then it is dropped with a warning, not retried for ever, and the result stays posted', async () => {
    const request = odoo.create('maintenance.request', { name: 'Bulb out in 404', stage_id: 1 });
    await maintenanceWriteBack('m-1', request.id);
    const mapping = withStage(999);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    odoo.failingCalls.set('maintenance.request.write', {
      name: 'odoo.exceptions.MissingError',
      message: 'Record does not exist or has been deleted.\n(Record: maintenance.stage(999,), User: 7)',
    });
    await expect(instanceWith(mapping).runOnce()).resolves.toBe(1);
    expect(await instanceWith(mapping).delayed()).toHaveLength(1);

    odoo.failingCalls.clear();
    odoo.unlink('maintenance.request', request.id);
    now += 60_000;
    await expect(instanceWith(mapping).runOnce()).resolves.toBe(0);

    // It was retried every 5 minutes for ever: a deleted record's stage cannot be moved.
    expect(await instanceWith(mapping).delayed()).toEqual([]);
    expect(await redis.zcard(keys.due)).toBe(0);
    expect(warn.mock.calls.map(([message]) => String(message))).toContainEqual(
      expect.stringMatching(
        new RegExp(`^the stage change of mission m-1 \\(stage_id to 999\\) is dropped: maintenance\\.request ${request.id} is gone from Odoo`),
      ),
    );
    // The result stays posted; nothing is given up.
    expect(await redis.hexists(keys.posted, 'm-1')).toBe(1);
    expect(await instanceWith(mapping).abandoned()).toEqual([]);
  });

  it('given a post Odoo refuses as a MissingError about another record, then the write-back is retried, not given up: its own record is there', async () => {
    const ticket = odoo.create('helpdesk.ticket', { name: 'Towels for 108' });
    await dueWriteBack('m-1', ticket.id);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    odoo.failingCalls.set('helpdesk.ticket.message_post', {
      name: 'odoo.exceptions.MissingError',
      message: 'Record does not exist or has been deleted.\n(Record: res.partner(55,), User: 7)',
    });

    await expect(instance().runOnce()).resolves.toBe(0);

    expect(await instance().abandoned()).toEqual([]);
    expect(await instance().delayed()).toEqual([expect.objectContaining({ missionId: 'm-1', lastError: expect.stringContaining('res.partner(55,)') })]);
    odoo.failingCalls.clear();
    odoo.unlink('helpdesk.ticket', ticket.id);
    now += 60_000;
    await instance().runOnce();
    // Its own record gone: given up, as before.
    expect(await instance().abandoned()).toEqual([expect.objectContaining({ missionId: 'm-1', recordId: ticket.id })]);
  });

  it('given a rate-limited Odoo (429 with Retry-After), then the write-back is tried again no sooner than it asks, whatever the backoff says', async () => {
    const ticket = odoo.create('helpdesk.ticket', { name: 'Towels for 109' });
    await dueWriteBack('m-1', ticket.id);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    odoo.foreignReply = { status: 429, body: 'slow down', headers: { 'retry-after': '600' } };

    await dueWriteBack('m-2', odoo.create('helpdesk.ticket', { name: 'Towels for 111' }).id);
    await expect(instance().runOnce()).resolves.toBe(0);

    // The backoff (1 s here) alone: the retry came long before the limit was lifted, and kept it on.
    // And the next write-back due called Odoo at once, as did every other of the run's ten.
    expect(odoo.requests).toBe(1);
    expect(await redis.zscore(keys.due, 'm-2')).toBe(String(now));
    const [failing] = await instance().delayed();
    expect(Date.parse(String(failing.nextAttemptAt))).toBeGreaterThanOrEqual(now + 600_000);
    expect(failing.lastError).toMatch(/HTTP 429: Odoo, or a proxy before it, is rate limiting the connector/);
  });

  it('given a rate-limited Odoo, then the write-backs its Retry-After holds are listed as rate-limited until it ends, tried or not, and as they are once it has', async () => {
    const [first, second] = [odoo.create('helpdesk.ticket', { name: 'Towels for 113' }), odoo.create('helpdesk.ticket', { name: 'Towels for 114' })];
    await dueWriteBack('m-1', first.id);
    await dueWriteBack('m-2', second.id);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    odoo.foreignReply = { status: 429, body: 'slow down', headers: { 'retry-after': '2' } };
    const client = clientOf();
    const writeBack = instance(client);
    await expect(writeBack.runOnce()).resolves.toBe(0);
    odoo.foreignReply = null;

    // m-2 waited unclaimed and was not listed at all, m-1 as any failure: nothing said that Odoo's rate limit held them.
    const listed = await writeBack.delayed();
    expect(listed).toEqual([
      expect.objectContaining({ missionId: 'm-1', status: 'rate-limited', attempts: 1, nextAttemptAt: new Date(now + 2_000).toISOString() }),
      {
        missionId: 'm-2',
        model: 'helpdesk.ticket',
        recordId: second.id,
        status: 'rate-limited',
        attempts: 0,
        lastError: null,
        failingSince: null,
        nextAttemptAt: expect.any(String),
      },
    ]);
    const waitEnds = Date.parse(String(listed[1].nextAttemptAt));
    expect(waitEnds).toBeGreaterThan(now + 1_000);
    expect(waitEnds).toBeLessThanOrEqual(now + 2_000);

    // Once Odoo's wait is over: m-1 a failure as any other, m-2 due and unlisted.
    await waitFor(async () => client.rateLimitedForMs === 0, { timeoutMs: 5_000, what: "Odoo's Retry-After to end" });
    now += 2_000;
    expect(await writeBack.delayed()).toEqual([expect.objectContaining({ missionId: 'm-1', status: 'failing', nextAttemptAt: new Date(now).toISOString() })]);
    await expect(writeBack.runOnce()).resolves.toBe(2);
    expect(await writeBack.delayed()).toEqual([]);
  });

  it('given Odoo refusing a post, when the write-back fails, then a warning names the mission, the record and the error, not the body', async () => {
    const ticket = odoo.create('helpdesk.ticket', { name: 'Towels for 104' });
    await dueWriteBack('m-1', ticket.id);
    odoo.denied.add('helpdesk.ticket');
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

    await expect(instance().runOnce()).resolves.toBe(0);

    // Only counted before: the operator saw failures grow with no line saying which, or why.
    const lines = warn.mock.calls.map(([message]) => String(message));
    warn.mockRestore();
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^write-back of mission m-1 to helpdesk\\.ticket ${ticket.id} failed \\(attempt 1\\).*AccessError`)),
    ]);
    expect(lines[0]).not.toContain('BRAIN: mission succeeded');
  });

  it('given a rate-limited instance listing while another claims and posts what is due, then those are not listed as failing', async () => {
    const tickets = ['Towels for 115', 'Towels for 116', 'Towels for 117'].map((name) => odoo.create('helpdesk.ticket', { name }));
    for (const [index, ticket] of tickets.entries()) await dueWriteBack(`m-${index + 1}`, ticket.id);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    odoo.foreignReply = { status: 429, body: 'slow down', headers: { 'retry-after': '30' } };
    const writeBack = instance(clientOf());
    await expect(writeBack.runOnce()).resolves.toBe(0);
    // Another instance, not rate limited, claims m-2 and posts m-3 right after the listing read the due set.
    const read = redis.zrangebyscore.bind(redis);
    jest.spyOn(redis, 'zrangebyscore').mockImplementationOnce(async (...args: Parameters<typeof read>) => {
      const dueNow = await read(...args);
      await redis.zadd(keys.due, now + 160_000, 'm-2');
      await redis.zrem(keys.due, 'm-3');
      return dueNow;
    });

    const listed = await writeBack.delayed();

    // They were listed as failing, with no failure: m-3 already in Odoo's chatter.
    expect(listed).toEqual([expect.objectContaining({ missionId: 'm-1', status: 'rate-limited', attempts: 1 })]);
  });

  it("given Odoo's error text of several lines, with a traceback, then the listed lastError and the warning are one line, bounded, without the traceback", async () => {
    const ticket = odoo.create('helpdesk.ticket', { name: 'Towels for 112' });
    await dueWriteBack('m-1', ticket.id);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // As Odoo words a NOT NULL violation, with the traceback it sends in data.debug.
    odoo.failingCalls.set('helpdesk.ticket.message_post', {
      name: 'odoo.exceptions.ValidationError',
      message: `The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n- Delete: another model requires the record being deleted. If possible, archive it instead.\n\nModel: Helpdesk Ticket (helpdesk.ticket)\r\nField:\t\tTeam (team_id)\n${'\u00a0'.repeat(3)}${'detail '.repeat(40)}`,
      debug:
        'Traceback (most recent call last):\n  File "/usr/lib/python3/dist-packages/odoo/http.py", line 1770, in _serve_db\npsycopg2.errors.NotNullViolation: null value',
    });

    await expect(instance().runOnce()).resolves.toBe(0);

    // Its line breaks reached the listing and the log line, and its whole length: the log split it over lines.
    const [{ lastError }] = await instance().delayed();
    expect(lastError).toMatch(
      /^Odoo object\.execute_kw failed: The operation cannot be completed: - Create\/update: a mandatory field is not set\. - Delete: another model .*… \(odoo\.exceptions\.ValidationError\)$/,
    );
    expect(lastError).not.toMatch(/\s{2}|[^\S ]|Traceback/);
    expect(String(lastError).length).toBeLessThanOrEqual(300);
    const lines = warn.mock.calls.map(([message]) => String(message));
    expect(lines).toEqual([expect.stringContaining(String(lastError))]);
    expect(lines[0]).not.toMatch(/\n/);
  });

  it("given a guest's mail in the chatter quoting the mission's marker, when the result is written back, then it is posted, and the connector's post is recorded", async () => {
    const ticket = odoo.create('helpdesk.ticket', { name: 'Towels for 104' });
    await dueWriteBack('m-1', ticket.id);
    const mail = odoo.receiveMail('helpdesk.ticket', ticket.id, '<p>Re: brain-mission:m-1, any news?</p>', 55);

    await expect(instance().runOnce()).resolves.toBe(1);

    const posts = odoo.messagesOf('helpdesk.ticket', ticket.id).filter((message) => message.id !== mail.id);
    expect(posts).toEqual([expect.objectContaining({ author_id: [odoo.partnerId, 'BRAIN'], body: expect.stringMatching(/^<p><b>BRAIN: mission succeeded/) })]);
    expect(await redis.hget(keys.posted, 'm-1')).toBe(String(posts[0].id));
  });

  it.each([
    ['16', 16, null],
    ['17', 17, null],
    // Odoo Online: server_version_info ["saas~18", 1, …] was read as version 0, and every post showed its tags.
    ['Online saas~18.1', 18, 1],
    ['Online saas~17.2', 17, 2],
  ])('given Odoo %s, then the result reaches the chatter as HTML, not as escaped tags', async (_name, majorVersion, saasMinor) => {
    odoo.majorVersion = majorVersion;
    odoo.saasMinor = saasMinor;
    const ticket = odoo.create('helpdesk.ticket', { name: 'Towels for 103' });
    await dueWriteBack('m-1', ticket.id);

    await expect(instance().runOnce()).resolves.toBe(1);

    // Odoo 17 escaped the body sent as text: staff read "<p><b>BRAIN: mission succeeded</b>…" as it stands.
    const [post] = odoo.messagesOf('helpdesk.ticket', ticket.id);
    expect(post.body).toMatch(/^<p><b>BRAIN: mission succeeded<\/b>/);
  });

  it('given a guest reply of several lines and paragraphs, then the chatter shows its breaks, still escaped, where HTML ran them together', async () => {
    await dueWriteBack('m-1', odoo.create('helpdesk.ticket', { name: 'Late check-out' }).id);
    const stored = await store.load('m-1');
    if (!stored) throw new Error('m-1 was not stored');
    const reply = 'Dear Ms <Doe>,\r\n\r\nyour late check-out is booked:\nroom 12 until 14:00 & breakfast.\n \n\nKind regards,\nFront desk\n';
    const mission = { ...stored, result: { output: { reply }, model: 'mock', latencyMs: 1, usage: { promptTokens: 1, completionTokens: 1 } } };

    expect(chatterBody(mission)).toContain(
      '<p>Dear Ms &lt;Doe&gt;,</p><p>your late check-out is booked:<br>room 12 until 14:00 &amp; breakfast.</p><p>Kind regards,<br>Front desk</p><pre>',
    );
    expect(textAsHtml('One line')).toBe('<p>One line</p>');
    expect(textAsHtml(' \n\n ')).toBe('');
  });
});

describe('OdooWriteBack while its Redis is away (a private redis-server, stopped and started again)', () => {
  afterEach(() => jest.restoreAllMocks());

  it('given Redis stopped, when reading the write-backs due keeps failing, then it is logged once, and once more when Redis is back', async () => {
    const server = await startPrivateRedis();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    const odoo = await FakeOdooServer.start();
    const logKeys = new KeyLayout(testKeyPrefix('odoo-write-back-outage'));
    const lines: string[] = [];
    const capture = (message: unknown) => void lines.push(String(message));
    jest.spyOn(Logger.prototype, 'log').mockImplementation(capture);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(capture);
    let failures = 0;
    let failed: () => void = () => undefined;
    const failedThrice = new Promise<void>((resolve) => (failed = () => ++failures === 3 && resolve()));
    const writeBack = new OdooWriteBack(
      new OdooClient(odoo.clientConnection(TIMEOUT_MS)),
      new MissionStore(redis, logKeys),
      redis,
      new ConnectorKeys(logKeys),
      loadOdooMapping(),
      testPersonalData(redis, logKeys.prefix),
      { postAs: 'note', backoffMs: 1_000, timeoutMs: TIMEOUT_MS, pollMs: 50, onFailure: () => failed() },
    );
    try {
      await server.halt();
      writeBack.start();
      await failedThrice;
      const failing = lines.filter((line) => line.startsWith('reading the write-backs due failed'));
      expect(failing).toHaveLength(1);

      await server.restart();
      await new Promise<void>((resolve) => {
        const recovered = () => lines.some((line) => line.startsWith('reading the write-backs due works again')) && resolve();
        jest.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => {
          capture(message);
          recovered();
        });
        recovered();
      });
      const [, count] = /after (\d+) failures in \d+ ms$/.exec(lines.find((line) => line.startsWith('reading the write-backs due works again')) ?? '') ?? [];
      expect(Number(count)).toBeGreaterThanOrEqual(3);
      expect(lines.filter((line) => line.startsWith('reading the write-backs due failed'))).toHaveLength(1);
    } finally {
      await writeBack.stop();
      await odoo.close();
      redis.disconnect();
      await server.stop();
    }
  });
});
