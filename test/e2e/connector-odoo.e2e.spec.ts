import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { loadEnvironment } from '@app/config';
import { MissionClient } from '@app/mission-client';
import { FakeOdooServer, redisTarget, waitFor } from '@app/testing';
import { createConnectorApp } from '../../apps/connector-odoo/src/connector-app';
import { ConnectorKeys } from '../../apps/connector-odoo/src/connector-keys';
import { DEFAULT_MAPPING_FILE } from '../../apps/connector-odoo/src/odoo-mapping';
import { NOT_DUE, OdooPoller } from '../../apps/connector-odoo/src/odoo-poller';
import { executorService } from '../../apps/executor/src/executor.definition';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';
import { expectWrongMethod } from '../support/wrong-method';

/** Maintenance requests move to stage 3 ("Repaired") once their mission succeeds. */
const REPAIRED = 3;

/** The connector's environment: the system's Redis, prefix, partitions and master key, and the fake Odoo. */
function connectorEnvironment(system: InProcessSystem, odoo: FakeOdooServer, overrides: Record<string, string> = {}) {
  return loadEnvironment({
    ...redisTarget(),
    ...(process.env.LOG_PARTITIONS ? { LOG_PARTITIONS: process.env.LOG_PARTITIONS } : {}),
    KEY_PREFIX: system.prefix,
    // The same master key as the services: the connector opens results to post them.
    DATA_KEY_SECRET: system.environment.DATA_KEY_SECRET,
    LOG_LEVEL: 'error',
    LOG_FORMAT: 'json',
    ...odoo.connection,
    ODOO_POLL_MS: '200',
    ODOO_BACKOFF_MS: '50',
    ODOO_TIMEOUT_MS: '1000',
    // The tests write records before a connector starts (and restart it): every one is to be taken in.
    ODOO_SINCE: '2000-01-01T00:00:00Z',
    ...overrides,
  });
}

describe('Odoo connector (four services, the connector, a fake Odoo on loopback)', () => {
  let system: InProcessSystem;
  let odoo: FakeOdooServer;
  let connector: INestApplication | undefined;
  let keys: ConnectorKeys;
  let mappingFile: string;

  const connectorEnv = (overrides: Record<string, string> = {}) => connectorEnvironment(system, odoo, { ODOO_MAPPING_FILE: mappingFile, ...overrides });
  const startConnector = async (overrides: Record<string, string> = {}) => {
    const env = connectorEnv(overrides);
    connector = await createConnectorApp(env);
    await connector.init();
    return connector;
  };
  const stopConnector = async () => {
    await connector?.close();
    connector = undefined;
  };
  const submitted = async () => Object.values(await system.redis.hgetall(keys.submitted));
  const ready = () => request((connector as INestApplication).getHttpServer()).get('/health/ready');
  /** A maintenance request taken in as a mission while no executor runs, so it waits for what the test does first. */
  const takenInWhileExecutorStopped = async (name: string, description: string) => {
    await system.stopService('executor');
    const record = odoo.create('maintenance.request', { name, description, priority: '1', stage_id: 1 });
    const missionId = await waitFor(async () => (await system.redis.hget(keys.submitted, `maintenance.request:${record.id}`)) ?? null, {
      timeoutMs: 20_000,
      what: 'the mission of the new request',
    });
    return { record, missionId };
  };

  beforeAll(async () => {
    system = await startInProcessSystem('e2e-connector-odoo');
    odoo = await FakeOdooServer.start();
    keys = new ConnectorKeys(system.keys);
    const mapping = JSON.parse(readFileSync(DEFAULT_MAPPING_FILE, 'utf8')) as { rules: { name: string; stageOnSuccess?: object | null }[] };
    for (const rule of mapping.rules) if (rule.name === 'maintenance-requests') rule.stageOnSuccess = { field: 'stage_id', value: REPAIRED };
    mappingFile = join(mkdtempSync(join(tmpdir(), 'odoo-mapping-')), 'mapping.json');
    writeFileSync(mappingFile, JSON.stringify(mapping));
  });
  afterAll(async () => {
    await stopConnector();
    await system.close();
    await odoo.close();
  });

  it('given records in Odoo, then each becomes one mission, and each success is posted once to its chatter as an internal note', async () => {
    const ticket = odoo.create('helpdesk.ticket', {
      name: 'Towels for 204',
      description: '<p>Two more, please.</p>',
      priority: '1',
      partner_id: [3, 'Anna Schmidt'],
      team_id: [1, 'Front Desk'],
    });
    const pricing = odoo.create('helpdesk.ticket', {
      name: 'Rates for the fair weekend',
      description: 'Competitors raised prices.',
      priority: '2',
      team_id: [2, 'Revenue Management'],
    });
    const repair = odoo.create('maintenance.request', { name: 'AC broken in 204', description: 'Blows warm air.', priority: '3', stage_id: 1, x_room: '204' });
    const blank = odoo.create('helpdesk.ticket', { name: '\u200b', description: false, priority: '1', team_id: [1, 'Front Desk'] });
    await startConnector();

    const missionIds = await waitFor(async () => ((await submitted()).length === 3 ? submitted() : null), { timeoutMs: 20_000, what: 'three missions' });
    const missions = await Promise.all(missionIds.map((id) => system.waitForStatus(id, ['succeeded'], 30_000)));
    expect(missions.map((mission) => [mission.type, mission.priority, mission.source?.recordId]).sort()).toEqual(
      [
        ['guest_support', 'normal', ticket.id],
        ['pricing', 'high', pricing.id],
        ['maintenance', 'critical', repair.id],
      ].sort(),
    );

    // A write-back is recorded (OdooResultPosted) after its post and its stage change.
    await waitFor(async () => (await system.redis.xlen(keys.events)) === 3, { timeoutMs: 20_000, what: 'three recorded write-backs' });
    for (const [model, record] of [
      ['helpdesk.ticket', ticket],
      ['helpdesk.ticket', pricing],
      ['maintenance.request', repair],
    ] as const) {
      const posts = odoo.messagesOf(model, record.id);
      expect(posts).toHaveLength(1);
      expect(posts[0]).toMatchObject({
        message_type: 'comment',
        subtype_xmlid: 'mail.mt_note',
        body: expect.stringMatching(/^<p><b>BRAIN: mission succeeded<\/b>.*brain-mission:/),
      });
    }
    expect(repair.stage_id).toBe(REPAIRED);
    // The ticket without a visible title is set aside with the reason, and told so in its chatter; the others were not held up.
    expect(await system.redis.hget(keys.refused, `helpdesk.ticket:${blank.id}`)).toContain('title');
    await waitFor(async () => odoo.messagesOf('helpdesk.ticket', blank.id).length === 1, { timeoutMs: 10_000, what: 'the refusal note' });
    expect(odoo.messagesOf('helpdesk.ticket', blank.id)[0]).toMatchObject({
      subtype_xmlid: 'mail.mt_note',
      body: expect.stringMatching(/not taken in.*title/),
    });
    expect(odoo.messages).toHaveLength(4);
    expect((await ready()).status).toBe(200);
  });

  it('given a connector restart and a second instance, then no record becomes a second mission and no result is posted twice', async () => {
    await stopConnector();
    const late = odoo.create('helpdesk.ticket', { name: 'Late check-out 118', description: 'Until 14:00?', priority: '0', team_id: [1, 'Front Desk'] });
    await startConnector();
    const second = await createConnectorApp(connectorEnv());
    await second.init();
    try {
      await waitFor(async () => (await system.redis.xlen(keys.events)) === 4, { timeoutMs: 30_000, what: 'the late ticket to be answered' });
      expect(odoo.messagesOf('helpdesk.ticket', late.id)).toHaveLength(1);
      expect(await submitted()).toHaveLength(4);
      expect(await system.statusCount('succeeded')).toBe(4);
      // Four results and the blank ticket's refusal note, each once.
      expect(odoo.messages).toHaveLength(5);
    } finally {
      await second.close();
    }
  });

  it('given an Odoo outage while a mission succeeds, then readiness says so, the write-back is listed and retried, and posted once Odoo is back', async () => {
    const { record, missionId } = await takenInWhileExecutorStopped('Leaking tap in 512', 'Drips all night.');
    odoo.outage = 'down';
    await system.addInstance(executorService);
    await system.waitForStatus(missionId, ['succeeded'], 30_000);

    const failing = await waitFor(
      async () => {
        const listed = (
          await request((connector as INestApplication).getHttpServer())
            .get('/connector/write-backs')
            .expect(200)
        ).body as { missionId: string }[];
        return listed.length > 0 && listed;
      },
      { timeoutMs: 20_000, what: 'the failing write-back to be listed' },
    );
    expect(failing).toEqual([
      expect.objectContaining({ missionId, model: 'maintenance.request', recordId: record.id, lastError: expect.stringContaining('Odoo') }),
    ]);
    await waitFor(async () => (await ready()).status === 503, { timeoutMs: 10_000, what: 'readiness to report Odoo down' });
    expect((await ready()).body.error.odoo).toMatchObject({ status: 'down' });
    const metrics = await request((connector as INestApplication).getHttpServer())
      .get('/metrics')
      .expect(200);
    expect(metrics.text).toMatch(/brain_odoo_write_backs_failing\{[^}]*\} 1/);

    odoo.outage = null;
    await waitFor(async () => (await system.redis.hexists(keys.posted, missionId)) === 1, { timeoutMs: 30_000, what: 'the write-back after the outage' });
    expect(odoo.messagesOf('maintenance.request', record.id)).toHaveLength(1);
    await waitFor(async () => (await ready()).status === 200, { timeoutMs: 10_000, what: 'readiness after the outage' });
    expect(
      (
        await request((connector as INestApplication).getHttpServer())
          .get('/connector/write-backs')
          .expect(200)
      ).body,
    ).toEqual([]);
    expect(record.stage_id).toBe(REPAIRED);
  });

  it('given a record deleted in Odoo before its result is posted, then the write-back is given up once: listed as abandoned, recorded, not retried', async () => {
    const { record, missionId } = await takenInWhileExecutorStopped('Squeaky door in 118', 'Squeaks all night.');
    odoo.unlink('maintenance.request', record.id);
    await system.addInstance(executorService);
    await system.waitForStatus(missionId, ['succeeded'], 30_000);

    const server = (connector as INestApplication).getHttpServer();
    const abandoned = await waitFor(
      async () =>
        ((await request(server).get('/connector/write-backs/abandoned').expect(200)).body as { missionId: string }[]).find(
          (entry) => entry.missionId === missionId,
        ) ?? null,
      { timeoutMs: 20_000, what: 'the write-back to be given up' },
    );
    expect(abandoned).toEqual({
      missionId,
      model: 'maintenance.request',
      recordId: record.id,
      reason: expect.stringContaining('Record does not exist or has been deleted'),
      abandonedAt: expect.any(String),
    });
    // It used to be retried every 5 minutes for ever: now it is neither queued nor failing.
    expect(await system.redis.zscore(keys.due, missionId)).toBeNull();
    expect(await system.redis.hexists(keys.failures, missionId)).toBe(0);
    expect(((await request(server).get('/connector/write-backs').expect(200)).body as { missionId: string }[]).map((entry) => entry.missionId)).not.toContain(
      missionId,
    );
    const events = (await system.redis.xrange(keys.events, '-', '+')).map(([, fields]) => JSON.parse(fields[1]) as { type: string; missionId: string });
    expect(events.filter((event) => event.missionId === missionId).map((event) => event.type)).toEqual(['OdooWriteBackAbandoned']);
    expect((await request(server).get('/metrics').expect(200)).text).toMatch(/brain_odoo_write_backs_abandoned\{[^}]*\} 1/);
  });

  it('given one write that touches 150 records (one write_date, to the microsecond), then each becomes one mission and the polls go on as usual', async () => {
    const before = (await submitted()).length;
    // An import or a multi-edit: Odoo gives every record the transaction's time, and returns it cut to the second.
    const imported = odoo.createInOneWrite(
      'helpdesk.ticket',
      Array.from({ length: 150 }, (_, i) => ({ name: `Imported ticket ${i}`, description: 'From the old system.', priority: '0', team_id: [1, 'Front Desk'] })),
    );
    expect(new Set(imported.map((record) => record.write_date)).size).toBe(1);

    // It used to read the first 100 again and again: "write_date > <that second>" holds for all of them.
    await waitFor(async () => (await submitted()).length === before + 150, { timeoutMs: 30_000, what: '150 more missions' });
    // A whole round ends (one that finds the lock free: instances take turns), and finds nothing new.
    const poller = (connector as INestApplication).get(OdooPoller);
    const round = await waitFor(
      async () => {
        const taken = await poller.poll();
        return taken === null || taken === NOT_DUE ? null : { taken };
      },
      { timeoutMs: 10_000, what: 'a poll round of this instance to end' },
    );
    expect(round.taken).toBe(0);
    expect(await submitted()).toHaveLength(before + 150);
  });

  it("given a REST client naming an Odoo record as its source, then its result is not posted there; the connector's own still are", async () => {
    const target = odoo.create('maintenance.request', { name: 'Boiler service', description: 'Yearly.', priority: '1', stage_id: 1 });
    // Any submitter may name a record (a key to de-duplicate by): posting to it would let them write to any record.
    const foreign = await system.api
      .post('/api/missions')
      .send({
        type: 'maintenance',
        title: 'Boiler service',
        description: 'Yearly.',
        priority: 'normal',
        payload: { room: 'basement' },
        source: { system: 'odoo', model: 'maintenance.request', recordId: target.id },
      })
      .expect(201);
    await system.waitForStatus(foreign.body.id, ['succeeded'], 30_000);
    // A record the connector takes in afterwards: once its result is posted, the log before it has been read.
    const own = odoo.create('maintenance.request', { name: 'Door closer in 118', description: 'Slams shut.', priority: '1', stage_id: 1 });
    await waitFor(async () => odoo.messagesOf('maintenance.request', own.id).length === 1, { timeoutMs: 30_000, what: "the connector's own write-back" });

    expect(odoo.messagesOf('maintenance.request', target.id).filter((post) => post.body.includes(`brain-mission:${foreign.body.id}`))).toEqual([]);
    expect(await system.redis.hget(keys.sources, foreign.body.id)).toBeNull();
  });

  it("given an internal service naming Odoo records as sources over the stream, then nothing is posted there, and a record it named still gets the connector's own mission", async () => {
    await stopConnector();
    const partner = odoo.create('res.partner', { name: 'Anna Schmidt' });
    const ticket = odoo.create('helpdesk.ticket', { name: 'Crib for 311', description: 'For tonight.', priority: '0', team_id: [1, 'Front Desk'] });
    // The stream says nothing of its sender: any service may name any record, as the connector names its own.
    const internal = new MissionClient(system.redis, system.prefix, system.environment.LOG_PARTITIONS);
    const job = {
      type: 'maintenance' as const,
      title: 'Internal job',
      description: 'From another service.',
      priority: 'normal' as const,
      payload: { room: '311' },
    };
    const foreign = await Promise.all([
      internal.create({ ...job, source: { system: 'odoo', model: 'res.partner', recordId: partner.id } }),
      internal.create({ ...job, source: { system: 'odoo', model: 'helpdesk.ticket', recordId: ticket.id } }),
    ]);
    for (const id of foreign) await system.waitForStatus(id, ['succeeded'], 30_000);
    await startConnector();

    const own = await waitFor(async () => (await system.redis.hget(keys.submitted, `helpdesk.ticket:${ticket.id}`)) ?? null, {
      timeoutMs: 20_000,
      what: "the ticket's mission",
    });
    expect(foreign).not.toContain(own);
    await system.waitForStatus(own, ['succeeded'], 30_000);
    await waitFor(async () => odoo.messagesOf('helpdesk.ticket', ticket.id).length === 1, { timeoutMs: 30_000, what: "the ticket's own write-back" });
    expect(odoo.messagesOf('helpdesk.ticket', ticket.id)[0].body).toContain(`brain-mission:${own}`);
    expect(odoo.messagesOf('res.partner', partner.id)).toEqual([]);
    expect(await system.redis.hmget(keys.sources, ...foreign)).toEqual([null, null]);
  });

  it('given a rule whose model this Odoo lacks, then the rules after it still take their records in, and the status names the failing rule', async () => {
    await stopConnector();
    const mapping = JSON.parse(readFileSync(mappingFile, 'utf8')) as { rules: { name: string; model: string }[] };
    // First, so that it used to stop every poll before the others ran.
    const withGhost = { ...mapping, rules: [{ ...mapping.rules[0], name: 'ghost-tickets', model: 'ghost.ticket' }, ...mapping.rules] };
    const ghostFile = join(mkdtempSync(join(tmpdir(), 'odoo-mapping-')), 'mapping.json');
    writeFileSync(ghostFile, JSON.stringify(withGhost));
    const repair = odoo.create('maintenance.request', { name: 'Shower drain in 207', description: 'Slow.', priority: '1', stage_id: 1 });
    await startConnector({ ODOO_MAPPING_FILE: ghostFile });

    await waitFor(async () => (await system.redis.hget(keys.submitted, `maintenance.request:${repair.id}`)) !== null, {
      timeoutMs: 20_000,
      what: 'the record of a later rule to be taken in',
    });
    const status = await waitFor(
      async () => {
        const answer = await ready();
        return answer.status === 503 && String(answer.body.error?.odoo?.message).includes('rule ghost-tickets') && answer;
      },
      { timeoutMs: 10_000, what: 'readiness to name the failing rule' },
    );
    expect(String(status.body.error.odoo.message)).toMatch(/ghost\.ticket/);
    // Odoo answers the other rules, so they keep ODOO_POLL_MS: no backoff, which doubles up to 5 minutes.
    const later = odoo.create('maintenance.request', { name: 'Lamp in 209', description: 'Flickers.', priority: '1', stage_id: 1 });
    await waitFor(async () => (await system.redis.hget(keys.submitted, `maintenance.request:${later.id}`)) !== null, {
      timeoutMs: 5_000,
      what: 'a record written while the ghost rule keeps failing to be taken in',
    });
    await stopConnector();
  });

  it('given every rule on a model this Odoo lacks, then a single instance retrying sooner than half a period stays unready, and checks no login meanwhile', async () => {
    await stopConnector();
    const mapping = JSON.parse(readFileSync(mappingFile, 'utf8')) as { rules: { name: string; model: string }[] };
    const ghosts = { ...mapping, rules: mapping.rules.map((rule) => ({ ...rule, name: `ghost-${rule.name}`, model: `ghost.${rule.model}` })) };
    const ghostFile = join(mkdtempSync(join(tmpdir(), 'odoo-mapping-')), 'mapping.json');
    writeFileSync(ghostFile, JSON.stringify(ghosts));
    // No lock left by the instance before: this one's first poll is its own turn.
    await system.redis.del(keys.pollLock);
    const callsBefore = odoo.calls.length;
    const ownPolls = () => odoo.calls.slice(callsBefore).filter((call) => call.startsWith('ghost.')).length / ghosts.rules.length;
    // Its backoff (ODOO_BACKOFF_MS, 50 ms) ends well before its own lock (half of ODOO_POLL_MS) lapses.
    await startConnector({ ODOO_MAPPING_FILE: ghostFile, ODOO_POLL_MS: '2000', ODOO_BACKOFF_MS: '50' });
    const statuses = new Set<number>();
    try {
      // Three polls of its own: two backoffs, each with retries that found its own lock.
      await waitFor(
        async () => {
          statuses.add((await ready()).status);
          return ownPolls() >= 3;
        },
        { timeoutMs: 20_000, what: 'three polls of the connector' },
      );
      // Its own lock was taken for another instance's turn: a login check that succeeded made it ready, 503 and 200 by turns.
      expect([...statuses]).toEqual([503]);
      const answer = await ready();
      expect(answer.status).toBe(503);
      expect(String(answer.body.error.odoo.message)).toMatch(/ghost\./);
    } finally {
      await stopConnector();
    }
  });

  it('given a record whose text is over MAX_MISSION_TEXT_BYTES, then it is set aside with the reason, not marked taken in', async () => {
    await stopConnector();
    const long = odoo.create('maintenance.request', { name: 'Long report', description: 'Ventilation noise. '.repeat(200), priority: '1', stage_id: 1 });
    await startConnector({ MAX_MISSION_TEXT_BYTES: '2000' });

    // It used to be sent anyway and marked taken in; the intake refused it into a stream the connector never reads.
    const reason = await waitFor(async () => system.redis.hget(keys.refused, `maintenance.request:${long.id}`), {
      timeoutMs: 20_000,
      what: 'the long record to be set aside',
    });
    expect(reason).toMatch(/over MAX_MISSION_TEXT_BYTES 2000/);
    expect(await system.redis.hget(keys.submitted, `maintenance.request:${long.id}`)).toBeNull();
    await stopConnector();
  });

  it('given a record whose description is a list that is no many2one, then it is set aside naming the field, not read as part of it', async () => {
    await stopConnector();
    const odd = odoo.create('maintenance.request', { name: 'Odd report', description: ['Ventilation', 'noise'], priority: '1', stage_id: 1 });
    await startConnector();

    // It was taken in with "noise" as the whole description.
    const reason = await waitFor(async () => system.redis.hget(keys.refused, `maintenance.request:${odd.id}`), {
      timeoutMs: 20_000,
      what: 'the odd record to be set aside',
    });
    expect(reason).toContain('field description holds a list that is no many2one');
    expect(await system.redis.hget(keys.submitted, `maintenance.request:${odd.id}`)).toBeNull();
    await stopConnector();
  });

  it('given a ticket longer than the intake takes, then it is set aside with a note, not cut; a long subject goes whole into the description', async () => {
    await stopConnector();
    // About 33 KB: it became a mission of its first 10,000 characters, the rest of the guest's words dropped, and no one told.
    const words = '中'.repeat(11_000);
    const long = odoo.create('helpdesk.ticket', {
      name: 'Noise at night',
      description: `<p>${words}</p>`,
      priority: '1',
      partner_id: [3, 'Anna Schmidt'],
      team_id: [1, 'Front Desk'],
    });
    const subject = `Room 204: ${'the air conditioning rattles and blows warm air '.repeat(6)}end`;
    const subjectTicket = odoo.create('helpdesk.ticket', {
      name: subject,
      description: '<p>Since Monday.</p>',
      priority: '1',
      partner_id: [3, 'Anna Schmidt'],
      team_id: [1, 'Front Desk'],
    });
    await startConnector();
    const server = (connector as INestApplication).getHttpServer();

    const field = `helpdesk.ticket:${long.id}`;
    const reason = await waitFor(async () => system.redis.hget(keys.refused, field), { timeoutMs: 20_000, what: 'the long ticket to be set aside' });
    expect(reason).toMatch(/description must be shorter than or equal to 10000 characters/);
    expect(reason).toMatch(/over MAX_MISSION_TEXT_BYTES 32768/);
    expect(await system.redis.hget(keys.submitted, field)).toBeNull();
    await waitFor(async () => odoo.messagesOf('helpdesk.ticket', long.id).length === 1, { timeoutMs: 10_000, what: 'the refusal note' });
    expect(odoo.messagesOf('helpdesk.ticket', long.id)[0]).toMatchObject({
      subtype_xmlid: 'mail.mt_note',
      body: expect.stringMatching(/not taken in.*MAX_MISSION_TEXT_BYTES/),
    });
    const listed = (await request(server).get('/connector/refused').expect(200)).body as { recordId: number; reason: string }[];
    expect(listed).toContainEqual(expect.objectContaining({ model: 'helpdesk.ticket', recordId: long.id, reason }));

    // The subject was cut to 200 characters before it opened the description, which had room for all of it.
    const missionId = await waitFor(async () => system.redis.hget(keys.submitted, `helpdesk.ticket:${subjectTicket.id}`), {
      timeoutMs: 20_000,
      what: 'the ticket with the long subject to be taken in',
    });
    const mission = (await system.api.get(`/api/missions/${missionId}`).expect(200)).body as { title: string; description: string };
    expect(mission).toMatchObject({ title: `helpdesk.ticket #${subjectTicket.id}`, description: `${subject}\n\nSince Monday.` });
    await stopConnector();
  });

  it('given wrong credentials, then the connector is not ready and says why', async () => {
    await stopConnector();
    await startConnector({ ODOO_API_KEY: 'not-the-key' });
    const refused = await waitFor(
      async () => {
        const answer = await ready();
        return answer.status === 503 && String(answer.body.error?.odoo?.message).includes('wrong login or API key') && answer;
      },
      { timeoutMs: 10_000, what: 'readiness to refuse, naming the login' },
    );
    expect(refused.body.status).toBe('error');
  });

  it("given a second instance with a wrong key beside a good one, then each one's readiness is its own, whichever of them polled last", async () => {
    await stopConnector();
    const since = Date.now();
    /** The shared status once a poll made since `after` wrote it: what the last poll by any instance found. */
    const polledSince = async (after: number) => {
      const status = await system.redis.hgetall(keys.odooStatus);
      return status.checkedAt && Date.parse(status.checkedAt) >= after ? status : null;
    };
    const readiness = (app: INestApplication) => request(app.getHttpServer()).get('/health/ready');
    /** A token no instance has: while the test holds the poll lock, it is every instance's turn to check its login instead. */
    const HELD = 'held-by-the-test';
    const wrong = await createConnectorApp(connectorEnv({ ODOO_API_KEY: 'wrong-key' }));
    await wrong.init();
    try {
      // The misconfigured instance alone: its failed poll is the last any instance made.
      const failed = await waitFor(async () => polledSince(since), { timeoutMs: 10_000, what: "the wrong instance's poll" });
      expect(failed).toMatchObject({ reachable: '0', lastError: expect.stringContaining('wrong login or API key') });
      await waitFor(async () => (await system.redis.set(keys.pollLock, HELD, 'PX', 60_000, 'NX')) === 'OK', {
        timeoutMs: 10_000,
        what: 'the poll lock, for the test',
      });

      // The good instance, whose turn it is not: it was 503 with the other's error until a poll of its own.
      await startConnector();
      const good = await waitFor(
        async () => {
          const answer = await ready();
          return answer.status === 200 && answer;
        },
        { timeoutMs: 10_000, what: "the good instance ready while the wrong one's poll failed last" },
      );
      // The last poll is still told, with who made it: not this instance's readiness.
      expect(good.body.info.odoo).toMatchObject({
        status: 'up',
        lastPoll: { reachable: false, lastError: expect.stringContaining('wrong login or API key'), polledBy: expect.stringMatching(/:\d+$/) },
      });
      const refusing = await readiness(wrong);
      expect(refusing.status).toBe(503);
      expect(refusing.body.error.odoo.message).toContain('wrong login or API key');

      // The good instance polls: the wrong one was ready from then on, its key as wrong as ever.
      const released = Date.now();
      await system.redis.del(keys.pollLock);
      const succeeded = await waitFor(
        async () => {
          const status = await polledSince(released);
          return status?.reachable === '1' && status;
        },
        { timeoutMs: 10_000, what: "the good instance's poll" },
      );
      expect(succeeded.lastError).toBe('');
      const stillRefusing = await readiness(wrong);
      expect(stillRefusing.status).toBe(503);
      expect(stillRefusing.body.error.odoo.message).toContain('wrong login or API key');
      expect((await ready()).status).toBe(200);
    } finally {
      if ((await system.redis.get(keys.pollLock)) === HELD) await system.redis.del(keys.pollLock);
      await wrong.close();
      await stopConnector();
    }
  });

  it("given a request Node's HTTP parser refuses, then the connector answers it with the JSON error body, as the four services do, and a path no route takes and a method a route does not take too", async () => {
    // As every test here: the connector the one before left running is stopped first, or it polls on unseen.
    await stopConnector();
    const app = await startConnector();
    try {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      const socket = connect(port, '127.0.0.1');
      socket.end('CONNECT odoo.internal:443 HTTP/1.1\r\nHost: odoo.internal\r\n\r\n');
      const chunks: Buffer[] = [];
      for await (const chunk of socket) chunks.push(chunk as Buffer);
      // It used to close the connection without an answer.
      const [head, body] = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 405 /);
      expect(JSON.parse(body)).toMatchObject({ statusCode: 405, details: [] });
      // A path no route takes: Nest's own 404 quoted it, query string and all, without details.
      const unknown = await request(app.getHttpServer()).get('/connector/refused/anna%40example.com?email=anna@example.com').expect(404);
      expect(unknown.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'no route takes GET at this path; the routes are listed in docs/operations.md, "Odoo connector"',
        details: [],
      });
      // A route under a method it does not take: the 404 above, as if the route were not there.
      expectWrongMethod(await request(app.getHttpServer()).post('/metrics'), 'POST', 'GET, HEAD');
      expectWrongMethod(await request(app.getHttpServer()).delete('/health/ready'), 'DELETE', 'GET, HEAD');
    } finally {
      await stopConnector();
    }
  });

  it('given a hanging Odoo, write-backs due and a poll under way, when the connector is closed, then it stops at once, not a timeout later per call still to make', async () => {
    await stopConnector();
    await system.stopService('executor');
    const records = Array.from({ length: 10 }, (_, n) =>
      odoo.create('maintenance.request', { name: `Bulb out in 40${n}`, description: 'Reading lamp.', priority: '1', stage_id: 1 }),
    );
    await startConnector({ ODOO_TIMEOUT_MS: '3000' });
    const missionIds = await waitFor(
      async () => {
        const ids = await system.redis.hmget(keys.submitted, ...records.map((record) => `maintenance.request:${record.id}`));
        return ids.every((id) => id !== null) && (ids as string[]);
      },
      { timeoutMs: 20_000, what: 'the ten requests taken in' },
    );
    // Odoo hangs from now on: the write-backs' chatter searches, and the polls' reads.
    for (const call of ['mail.message.search_read', 'helpdesk.ticket.search_read', 'maintenance.request.search_read']) odoo.slowCalls.set(call, Infinity);
    await system.addInstance(executorService);
    for (const missionId of missionIds) await system.waitForStatus(missionId, ['succeeded'], 30_000);
    await waitFor(async () => odoo.heldCalls.includes('mail.message.search_read') && odoo.heldCalls.includes('maintenance.request.search_read'), {
      timeoutMs: 10_000,
      what: 'a write-back and a poll waiting on Odoo',
    });

    const closing = Date.now();
    await stopConnector();
    const took = Date.now() - closing;
    odoo.slowCalls.clear();

    // It waited out ODOO_TIMEOUT_MS for each write-back due (up to ten) and each step of the round: 30 s
    // and more, where compose gives 15 s before it kills.
    expect(took).toBeLessThan(2_000);
    expect(odoo.messages.filter((message) => records.some((record) => record.id === message.res_id && message.model === 'maintenance.request'))).toEqual([]);
  }, 90_000);
});

describe('Odoo connector: refusals told to Odoo (four services, the connector, a fake Odoo on loopback)', () => {
  let system: InProcessSystem;
  let odoo: FakeOdooServer;
  let connector: INestApplication;
  let keys: ConnectorKeys;
  /** The seeded agents with the maintenance skill, and their skills. */
  const maintainers = new Map<string, string[]>();

  beforeAll(async () => {
    system = await startInProcessSystem('e2e-connector-odoo-refusals');
    odoo = await FakeOdooServer.start();
    keys = new ConnectorKeys(system.keys);
    // No agent has the maintenance skill, before the intake has looked at the agents' skills even once.
    const agents = (await system.api.get('/api/agents').expect(200)).body as { id: string; skills: string[] }[];
    for (const agent of agents.filter((candidate) => candidate.skills.includes('facility_maintenance'))) {
      maintainers.set(agent.id, agent.skills);
      const skills = agent.skills.filter((skill) => skill !== 'facility_maintenance');
      await system.api
        .patch(`/api/agents/${agent.id}`)
        .send({ skills: skills.length > 0 ? skills : ['guest_communication'] })
        .expect(200);
    }
    connector = await createConnectorApp(connectorEnvironment(system, odoo));
    await connector.init();
  });
  afterAll(async () => {
    await connector?.close();
    await system.close();
    await odoo.close();
  });

  it('given a record whose mission needs skills no agent has, then the intake refuses it, Odoo is told why once, and it is taken in once an agent has them', async () => {
    const record = odoo.create('maintenance.request', { name: 'Sauna heater broken', description: 'No heat since this morning.', priority: '1', stage_id: 1 });
    const field = `maintenance.request:${record.id}`;

    // It used to stay "taken in" for ever: the refusal went to the intake's rejected stream, which the connector never read.
    const reason = await waitFor(async () => system.redis.hget(keys.refused, field), { timeoutMs: 20_000, what: 'the record to be set aside' });
    expect(reason).toMatch(/no registered agent has the skill facility_maintenance/);
    expect(await system.redis.hget(keys.submitted, field)).toBeNull();
    const [note] = await waitFor(
      async () => (odoo.messagesOf('maintenance.request', record.id).length > 0 ? odoo.messagesOf('maintenance.request', record.id) : null),
      {
        timeoutMs: 20_000,
        what: 'the refusal note in the chatter',
      },
    );
    expect(note).toMatchObject({ subtype_xmlid: 'mail.mt_note', body: expect.stringContaining('BRAIN: not taken in') });
    expect(note.body).toContain('facility_maintenance');
    const listed = await waitFor(
      async () => {
        const body = (await request(connector.getHttpServer()).get('/connector/refused').expect(200)).body as { recordId: number; notePending: boolean }[];
        return body.some((entry) => entry.recordId === record.id && !entry.notePending) && body;
      },
      { timeoutMs: 10_000, what: 'the refused record listed with its note posted' },
    );
    expect(listed).toContainEqual({ model: 'maintenance.request', recordId: record.id, reason, notePending: false });
    const metrics = (await request(connector.getHttpServer()).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^brain_odoo_records_refused(\{[^}]*\})? 1$/m);

    // More polls read nothing new and post nothing twice.
    const polls = odoo.calls.filter((call) => call === 'maintenance.request.search_read').length;
    await waitFor(async () => odoo.calls.filter((call) => call === 'maintenance.request.search_read').length >= polls + 6, {
      timeoutMs: 10_000,
      what: 'three more polls',
    });
    expect(odoo.messagesOf('maintenance.request', record.id)).toHaveLength(1);

    // The cause fixed (the agents' skills back): the record is taken in without an edit, and its mission succeeds.
    for (const [agentId, skills] of maintainers) await system.api.patch(`/api/agents/${agentId}`).send({ skills }).expect(200);
    const missionId = await waitFor(async () => system.redis.hget(keys.submitted, field), { timeoutMs: 20_000, what: 'the edited record to be taken in' });
    expect(await system.redis.hget(keys.refused, field)).toBeNull();
    await waitFor(async () => ((await system.api.get(`/api/missions/${missionId}`)).body.status === 'succeeded' ? true : null), {
      timeoutMs: 30_000,
      what: 'the mission to succeed',
    });
    await waitFor(async () => odoo.messagesOf('maintenance.request', record.id).length === 2, { timeoutMs: 20_000, what: 'the result in the chatter' });
    expect(odoo.messagesOf('maintenance.request', record.id)[1].body).toContain(`brain-mission:${missionId}`);
  });

  it('given a record set aside for no visible title, then an edit that gives it one takes it in, and its refusal is gone', async () => {
    const record = odoo.create('maintenance.request', { name: '\u200b', description: 'Lamp flickers in 118.', priority: '1' });
    const field = `maintenance.request:${record.id}`;
    expect(await waitFor(async () => system.redis.hget(keys.refused, field), { timeoutMs: 20_000, what: 'the record to be set aside' })).toMatch(/title/);
    await waitFor(async () => odoo.messagesOf('maintenance.request', record.id).length === 1, { timeoutMs: 10_000, what: 'the refusal note' });

    odoo.update('maintenance.request', record.id, { name: 'Lamp flickers in 118' });
    const missionId = await waitFor(async () => system.redis.hget(keys.submitted, field), { timeoutMs: 20_000, what: 'the edited record to be taken in' });
    expect(missionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await system.redis.hget(keys.refused, field)).toBeNull();
    const listed = (await request(connector.getHttpServer()).get('/connector/refused').expect(200)).body as { recordId: number }[];
    expect(listed.map((entry) => entry.recordId)).not.toContain(record.id);
  });
});
