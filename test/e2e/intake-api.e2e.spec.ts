import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import request from 'supertest';
import { createFingerprints, MasterKeyRing } from '@app/guest-data';
import { RejectionCode } from '@app/messages';
import {
  apiScope,
  deduplicationKey,
  Mission,
  MissionCreateDto,
  missionIdFor,
  missionIdForStreamEntry,
  namedIdKey,
  plainBodyFingerprint,
  SUBMISSION_STREAM_SCOPE,
} from '@app/mission';
import { MissionClient } from '@app/mission-client';
import { DATA_NOT_UTF8, MAX_MESSAGE_DEPTH, RedisStreamsContext } from '@app/redis-streams';
import { streamFields, TEST_DATA_KEY_SECRET, waitFor, testRedis } from '@app/testing';
import { MissionCommandsService } from '../../apps/intake/src/missions/mission-commands.service';
import { SubmissionConsumer } from '../../apps/intake/src/missions/submission.consumer';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

const mission = (overrides: Record<string, unknown> = {}) => ({
  type: 'maintenance',
  title: 'AC broken in room 204',
  description: 'The AC blows warm air; guest is uncomfortable.',
  priority: 'high',
  payload: { room: '204' },
  ...overrides,
});

describe('intake API (four services, real Redis)', () => {
  describe('given an LLM that takes a minute', () => {
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-slow', { MOCK_LLM_LATENCY_MS: '60000' });
    });
    afterAll(async () => system.close());

    it('when a running mission is cancelled, then the call is aborted, the agent freed, and a second cancel is a 409', async () => {
      const http = () => system.api;
      const created = await http().post('/api/missions').send(mission()).expect(201);
      const running = await system.waitForStatus(created.body.id, ['running']);
      expect(await system.redis.hget(system.keys.agentLoad, running.assignedAgentId ?? '')).toBe('1');

      const cancelled = await http().post(`/api/missions/${running.id}/cancel`).send({ reason: 'guest checked out' }).expect(200);
      expect(cancelled.body.status).toBe('cancelled');
      await system.waitForLoad(running.assignedAgentId ?? '', 0);

      const conflict = await http().post(`/api/missions/${running.id}/cancel`).send({}).expect(409);
      expect(conflict.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
      await http().post('/api/missions/00000000-0000-7000-8000-000000000000/cancel').send({}).expect(404);
      await http().post('/api/missions/unknown-id/cancel').send({}).expect(400);

      // The aborted call records nothing more: the history ends with the cancellation.
      await waitFor(async () => (await system.redis.hget(system.keys.mission(running.id), 'st')) === 'cancelled', { timeoutMs: 5_000, what: 'cancelled' });
      const events = await system.store.history(running.id);
      expect(events.map((e) => e.type).slice(-2)).toEqual(['MissionStarted', 'MissionCancelled']);
    });

    it('when missions are listed, then filters and cursor pages cover each mission exactly once', async () => {
      const http = () => system.api;
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const type = i % 2 === 0 ? 'pricing' : 'guest_support';
        const created = await http()
          .post('/api/missions')
          .send(mission({ type, title: `paged m${i}`, priority: 'low', payload: {} }))
          .expect(201);
        ids.push(created.body.id);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await http()
          .get('/api/missions')
          .query({ limit: 3, ...(cursor ? { cursor } : {}) })
          .expect(200);
        seen.push(...(page.body.items as Mission[]).map((m) => m.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(ids));

      // A page has a nextCursor only when more follows: full pages, then the rest, never an empty page after a cursor.
      for (const limit of [1, 2, 3, 7, 8]) {
        const sizes: number[] = [];
        let next: string | undefined;
        do {
          const page = await http()
            .get('/api/missions')
            .query({ title: 'paged m', limit, ...(next ? { cursor: next } : {}) })
            .expect(200);
          sizes.push(page.body.items.length);
          next = page.body.nextCursor;
        } while (next && sizes.length <= ids.length);
        expect({ limit, sizes }).toEqual({
          limit,
          sizes: Array.from({ length: Math.ceil(ids.length / limit) }, (_, i) => Math.min(limit, ids.length - i * limit)),
        });
      }

      const pricing = await http().get('/api/missions').query({ type: 'pricing', limit: 200 }).expect(200);
      expect((pricing.body.items as Mission[]).every((m) => m.type === 'pricing')).toBe(true);
      expect(pricing.body.items).toHaveLength(4);
      await http().get('/api/missions').query({ limit: 201 }).expect(400);
      await http().get('/api/missions').query({ status: 'sleeping' }).expect(400);
      await http().get('/api/missions').query({ cursor: 'bm90LWEtY3Vyc29y' }).expect(400);
    });

    // A cursor of `?limit=1` went on with `&type=pricing` (a page of pricing missions), and /api/reviews took it too.
    it('given the nextCursor of a mission list, then it pages only that list with the same filters: elsewhere a 400 says to start again without a cursor', async () => {
      const http = () => system.api;
      for (let i = 0; i < 2; i++)
        await http()
          .post('/api/missions')
          .send(mission({ type: 'pricing', title: `bound m${i}`, priority: 'low', payload: {} }))
          .expect(201);
      const first = await http().get('/api/missions').query({ title: 'bound m', limit: 1 }).expect(200);
      const cursor = first.body.nextCursor as string;
      expect(cursor).toEqual(expect.any(String));
      // Same filters, another page size: the next page.
      const next = await http().get('/api/missions').query({ title: 'BOUND M', limit: 5, cursor }).expect(200);
      expect((next.body.items as Mission[]).map((m) => m.id)).not.toContain((first.body.items as Mission[])[0].id);
      for (const elsewhere of [
        { path: '/api/missions', query: { title: 'bound m', type: 'pricing', cursor } },
        { path: '/api/missions', query: { cursor } },
        { path: '/api/reviews', query: { cursor } },
        { path: '/api/reviews', query: { type: 'maintenance', cursor } },
      ]) {
        const refused = await http().get(elsewhere.path).query(elsewhere.query).expect(400);
        expect({ ...elsewhere, message: refused.body.message }).toEqual({ ...elsewhere, message: expect.stringMatching(/start again without a cursor/) });
      }
    });

    // A title sent decomposed (NFD, as some macOS and mobile keyboards send it) was never found by its word as typed (NFC), nor the other way round.
    it('when missions are searched by title, then an accent matches whether it was sent composed (NFC) or decomposed (NFD)', async () => {
      const http = () => system.api;
      const decomposed = await http()
        .post('/api/missions')
        .send(mission({ title: 'Tu\u0308r klemmt in Zimmer 7', priority: 'low', payload: {} }))
        .expect(201);
      const composed = await http()
        .post('/api/missions')
        .send(mission({ title: 'T\u00fcr klemmt in Zimmer 8', priority: 'low', payload: {} }))
        .expect(201);
      for (const title of ['T\u00fcr klemmt', 'Tu\u0308r klemmt', 't\u00dcR KLEMMT']) {
        const listed = await http().get('/api/missions').query({ title, limit: 200 }).expect(200);
        expect({ title, ids: (listed.body.items as Mission[]).map((m) => m.id).sort() }).toEqual({ title, ids: [decomposed.body.id, composed.body.id].sort() });
      }
    });

    it('when a mission is read at a version, then it is the state after that event, though events appended together share their time', async () => {
      const { api } = system;
      const created = await api
        .post('/api/missions')
        .send(mission({ title: 'read at a version' }))
        .expect(201);
      const done = await system.waitForStatus(created.body.id, ['running']);
      const [first, second] = await system.store.history(done.id);
      // Created and Queued share their time: asked for by it, the create read as version 2, queued; version 1 could not be shown.
      expect(first.at).toBe(second.at);
      expect((await api.get(`/api/missions/${done.id}?at=${encodeURIComponent(first.at)}`).expect(200)).body).toMatchObject({ version: 2, status: 'queued' });
      expect((await api.get(`/api/missions/${done.id}?version=1`).expect(200)).body).toMatchObject({ version: 1, status: 'created' });
      expect((await api.get(`/api/missions/${done.id}?version=${done.version}`).expect(200)).body).toMatchObject({
        version: done.version,
        status: 'running',
      });
      expect((await api.get(`/api/missions/${done.id}?version=${done.version + 1}`).expect(404)).body.message).toBe(
        `mission ${done.id} has no version ${done.version + 1}: its last is ${done.version}`,
      );
      for (const bad of ['0', '-1', '1.5', '1e1', 'x']) await api.get(`/api/missions/${done.id}?version=${bad}`).expect(400);
      // Read as 9007199254740992 and 1e20, they were 404s quoting a version the client never asked for.
      for (const unsafe of ['9007199254740993', '99999999999999999999']) {
        expect((await api.get(`/api/missions/${done.id}?version=${unsafe}`).expect(400)).body.details).toEqual([
          { field: 'version', problems: ['version must not be greater than 9007199254740991'] },
        ]);
      }
    });

    // It folded the events left on either side of a deleted one and answered 200 with a state the mission never had.
    it('when events of a mission are deleted from the log, then its state at a time past them is a 409 naming the missing versions', async () => {
      const { api } = system;
      const created = await api.post('/api/missions').send(mission({ title: 'gap in the log' }));
      expect(created.status).toBe(201);
      const running = await system.waitForStatus(created.body.id, ['running']);
      await api.post(`/api/missions/${running.id}/cancel`).send({ reason: 'tamper test' }).expect(200);
      await waitFor(async () => (await system.redis.hget(system.keys.mission(running.id), 'st')) === 'cancelled', { timeoutMs: 5_000, what: 'cancelled' });
      const events = await system.store.history(running.id);
      const last = events[events.length - 1].version;
      expect(last).toBeGreaterThan(2);
      const partition = system.keys.of(running.id);
      const logIds = await system.redis.lrange(partition.missionEvents(running.id), 0, -1);
      const now = encodeURIComponent(new Date().toISOString());

      // Without its start the rest still folds (assigned, then cancelled): a state the mission never had, in which it never ran.
      const started = events.find((event) => event.type === 'MissionStarted')?.version ?? 0;
      expect(started).toBeGreaterThan(1);
      expect(started).toBeLessThan(last);
      expect(await system.redis.xdel(partition.log, logIds[started - 1])).toBe(1);
      const gap = await api.get(`/api/missions/${running.id}?at=${now}`);
      expect(gap.body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        message: `mission ${running.id} at ${decodeURIComponent(now)}: v${started} missing from the log; no state is folded across it (\`replay verify\` finds what changed)`,
        details: [],
      });

      // A deleted last event, whose time is unknown, is missing for any time after the events left.
      expect(await system.redis.xdel(partition.log, logIds[last - 1])).toBe(1);
      const both = await api.get(`/api/missions/${running.id}?at=${now}`).expect(409);
      const missing =
        started === last - 1 ? `v${started}–v${last} missing from the log (2 versions)` : `v${started} missing from the log, v${last} missing from the log`;
      expect(both.body.message).toContain(`: ${missing}; no state is folded across it`);
      // Before the mission existed, nothing is folded: 404 as before; without `at`, the read model.
      await api.get(`/api/missions/${running.id}?at=2000-01-01T00:00:00Z`).expect(404);
      expect((await api.get(`/api/missions/${running.id}`).expect(200)).body).toMatchObject({ id: running.id, status: 'cancelled', version: last });
    });

    // Its events answered 500 (`internal error`), naming neither the mission nor what to do.
    it.each([
      ['not JSON', () => '{not json', 'the stored event is not valid JSON'],
      [
        'of an unknown type',
        (json: string) => json.replace(/"type":"MissionStarted"/, '"type":"MissionTeleported"'),
        'its type "MissionTeleported" is no mission event type',
      ],
      ['without a field its type has', (json: string) => json.replace(/"attempt":\d+,?/, ''), 'a MissionStarted without data.attempt (a number)'],
    ])(
      'when an event of a mission is altered where it is stored (%s), then its events and its state at a time are a 409 naming it and the remedy',
      async (_name, alter, reason) => {
        const { api } = system;
        const created = await api.post('/api/missions').send(mission({ title: 'altered event' }));
        expect(created.status).toBe(201);
        const running = await system.waitForStatus(created.body.id, ['running']);
        const started = (await system.store.history(running.id)).find((event) => event.type === 'MissionStarted');
        expect(started).toBeDefined();
        const partition = system.keys.of(running.id);
        const logIds = await system.redis.lrange(partition.missionEvents(running.id), 0, -1);
        const [[, fields]] = (await system.redis.xrange(partition.log, logIds[(started?.version ?? 0) - 1], '+', 'COUNT', 1)) as [string, string[]][];
        // A stream entry cannot be changed in place: the altered copy is added, and the event list names it instead.
        const altered = (await system.redis.xadd(partition.log, '*', 'm', running.id, 'e', alter(fields[3]))) ?? '';
        await system.redis.lset(partition.missionEvents(running.id), (started?.version ?? 0) - 1, altered);

        const events = await api.get(`/api/missions/${running.id}/events`).expect(409);
        expect(events.body).toEqual({
          statusCode: 409,
          error: 'Conflict',
          message:
            `mission ${running.id}: its event v${started?.version} (${altered}) cannot be read: ${reason}; ` +
            'it was changed where it is stored: an operator must run `replay verify`, which finds what changed, then `replay rebuild`, which writes the read model again from the log',
          details: [],
        });
        const at = await api.get(`/api/missions/${running.id}?at=${encodeURIComponent(new Date().toISOString())}`).expect(409);
        expect(at.body.message).toBe(events.body.message);
        // The read model is as it was: the mission itself still reads.
        await api.get(`/api/missions/${running.id}`).expect(200);
        await api.post(`/api/missions/${running.id}/cancel`).send({ reason: 'altered event test' });
      },
    );

    // One such record made every GET /api/missions page holding it a 500, for every caller.
    it.each([
      [
        'its state no mission',
        (key: string) => system.redis.hset(key, 's', 'not json'),
        'its state in the read model \\(s\\) is not JSON',
        's is not the JSON of an object',
      ],
      [
        'its hash a string',
        async (key: string) => void (await system.redis.multi().del(key).set(key, 'a string').exec()),
        'holds another type of value than a hash',
        'holds another type of value than a hash',
      ],
    ])(
      "when a mission's read model is changed past reading (%s), then lists show it [unavailable], its routes answer 409 naming it, a client key a 404",
      async (_name, alter, why, chainWhy) => {
        const { api } = system;
        const created = await api.post('/api/missions').send(mission({ title: 'unreadable state' }));
        expect(created.status).toBe(201);
        const id = created.body.id as string;
        await api.post(`/api/missions/${id}/cancel`).send({ reason: 'unreadable state test' }).expect(200);
        // The page goes on past it: this one is listed too.
        const other = await api
          .post('/api/missions')
          .send(mission({ title: 'readable beside it' }))
          .expect(201);
        const key = system.keys.mission(id);
        const kept = await system.redis.hgetall(key);
        await alter(key);
        try {
          const shown = await api.get(`/api/missions/${id}`).expect(409);
          expect(shown.body.message).toMatch(new RegExp(`^mission ${id}: .*${why}; it was changed where it is stored: an operator must run \`replay verify\``));
          expect((await api.post(`/api/missions/${id}/cancel`).send({}).expect(409)).body.message).toBe(shown.body.message);

          const listed = (await api.get('/api/missions?limit=200').expect(200)).body.items as { id: string }[];
          expect(listed.find((item) => item.id === id)).toEqual({
            id,
            type: '[unavailable]',
            title: '[unavailable]',
            description: '[unavailable]',
            priority: '[unavailable]',
            status: '[unavailable]',
            unavailable: shown.body.message,
          });
          expect(listed.map((item) => item.id)).toContain(other.body.id);
          // Nothing of it is known: a filter on what it is does not show it.
          const cancelled = (await api.get('/api/missions?status=cancelled&limit=200').expect(200)).body.items as { id: string }[];
          expect(cancelled.map((item) => item.id)).not.toContain(id);
          await request(system.intake.getHttpServer()).get(`/api/missions/${id}`).set('Authorization', `Bearer ${TEST_KEYS.client}`).expect(404);
          // The chain badge says so in its answer, as it says any change: a 500 for a key of another type.
          expect((await api.get(`/api/missions/${id}/verify`).expect(200)).body).toMatchObject({
            verified: false,
            problems: [expect.stringContaining(chainWhy)],
          });
        } finally {
          await system.redis.del(key);
          await system.redis.hset(key, kept);
        }
      },
    );

    // Its events and its state at a time answered 500 with a stack (WRONGTYPE from LRANGE); the docs promise a 409.
    it("when a mission's event list is changed into another Redis type, then its events and its state at a time are a 409 naming the key", async () => {
      const { api } = system;
      const created = await api
        .post('/api/missions')
        .send(mission({ title: 'event list of another type' }))
        .expect(201);
      const id = created.body.id as string;
      await api.post(`/api/missions/${id}/cancel`).send({ reason: 'event list test' }).expect(200);
      const key = system.keys.missionEvents(id);
      const kept = await system.redis.lrange(key, 0, -1);
      await system.redis.multi().del(key).set(key, 'a string').exec();
      try {
        const events = await api.get(`/api/missions/${id}/events`).expect(409);
        expect(events.body.message).toBe(
          `mission ${id}: its key ${key} holds another type of value than a list; ` +
            'it was changed where it is stored: an operator must run `replay verify`, which finds what changed, then `replay rebuild`, which writes the read model again from the log',
        );
        const at = await api.get(`/api/missions/${id}?at=${encodeURIComponent(new Date().toISOString())}`).expect(409);
        expect(at.body.message).toBe(events.body.message);
      } finally {
        await system.redis.del(key);
        await system.redis.rpush(key, ...kept);
      }
    });
  });

  describe('given an LLM that always fails', () => {
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-dlq', { MOCK_LLM_FAILURE_RATE: '1', MAX_ATTEMPTS: '1' });
    });
    afterAll(async () => system.close());

    it('when missions are dead-lettered, then the DLQ lists them and requeue gives them MAX_ATTEMPTS more with a MissionRequeued event', async () => {
      const http = () => system.api;
      const a = await http()
        .post('/api/missions')
        .send(mission({ title: 'a' }))
        .expect(201);
      const b = await http()
        .post('/api/missions')
        .send(mission({ type: 'pricing', title: 'b' }))
        .expect(201);
      await system.waitForStatus(a.body.id, ['dead_lettered']);
      await system.waitForStatus(b.body.id, ['dead_lettered']);

      const dlq = await http().get('/api/dlq').expect(200);
      expect(dlq.body.items).toHaveLength(2);
      expect(dlq.body.nextCursor).toBeUndefined();
      expect(dlq.body.items[0]).toMatchObject({ attempts: 1, lastError: 'mock provider failure' });
      // The reason its MissionDeadLettered records (it used to be rebuilt from the state: "failed 1 attempts").
      expect(dlq.body.items[0].reason).toBe('failed 1 of 1 attempts');

      const requeued = await http().post(`/api/dlq/${a.body.id}/requeue`).expect(200);
      expect(requeued.body).toMatchObject({ status: 'queued', attempts: 1, attemptsAtRequeue: 1 });
      await http().post(`/api/dlq/${a.body.id}/requeue`).expect(409);
      const history = await system.store.history(a.body.id);
      expect(history.map((e) => e.type)).toContain('MissionRequeued');
      await system.waitForStatus(a.body.id, ['dead_lettered']);

      const bulk = await http().post('/api/dlq/requeue').send({ type: 'pricing' }).expect(200);
      expect(bulk.body).toEqual({ requeued: [b.body.id], skipped: [] });
    });

    it('when stats and metrics are read, then they show the dead letters and the created missions', async () => {
      const stats = await system.api.get('/api/missions/queue/stats').expect(200);
      expect(stats.body.deadLettered).toBeGreaterThanOrEqual(1);
      const metrics = await system.api.get('/metrics').expect(200);
      expect(metrics.text).toMatch(/brain_missions_created_total\{.*type="maintenance".*\} 1/);
      expect(metrics.text).toMatch(/brain_queue_missions\{.*state="dead_lettered".*\}/);
      expect(metrics.text).toMatch(/brain_http_request_duration_seconds_bucket/);
    });

    it('when a bulk requeue meets a dead letter that someone else cancelled meanwhile, then it is listed as skipped with why, and the others are requeued', async () => {
      const http = () => system.api;
      // One after the other: the bulk requeue takes the dead letters oldest first.
      const ids: string[] = [];
      for (const title of ['c', 'd', 'e']) {
        const created = await http()
          .post('/api/missions')
          .send(mission({ title: `bulk ${title}` }))
          .expect(201);
        await system.waitForStatus(created.body.id, ['dead_lettered']);
        ids.push(created.body.id as string);
      }
      const [first, second, third] = ids;
      const commands = system.intake.get(MissionCommandsService);
      const requeue = commands.requeue.bind(commands);
      // Another operator cancels the second while the bulk requeue is at the first.
      const raced = jest.spyOn(commands, 'requeue').mockImplementationOnce(async (...args) => {
        await http().post(`/api/missions/${second}/cancel`).send({ reason: 'not needed any more' }).expect(200);
        return requeue(...args);
      });
      try {
        const bulk = await http().post('/api/dlq/requeue').send({ errorContains: 'mock provider failure', reason: 'provider back' }).expect(200);
        // It answered 409 at the second, with the first requeued and the third never tried.
        expect(bulk.body.requeued.filter((id: string) => ids.includes(id))).toEqual([first, third]);
        expect(bulk.body.skipped).toEqual([{ missionId: second, reason: `cannot requeue mission ${second}: mission is cancelled, not dead_lettered` }]);
      } finally {
        raced.mockRestore();
      }
    });
  });

  describe('given internal services submitting over Redis', () => {
    let system: InProcessSystem;
    let sender: Redis;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-submit');
      sender = testRedis();
    });
    afterAll(async () => {
      await sender.quit();
      await system.close();
    });

    it('when the typed client submits, then the mission runs, and a repeat with the same key is the same mission', async () => {
      const client = new MissionClient(sender, system.prefix);
      const id = await client.create(mission() as never, { idempotencyKey: 'odoo-maint-77' });
      const again = await client.create(mission() as never, { idempotencyKey: 'odoo-maint-77' });
      expect(again).toBe(id);
      const done = await system.waitForStatus(id, ['succeeded']);
      expect(done.type).toBe('maintenance');
      const history = await system.store.history(id);
      expect(history.filter((e) => e.type === 'MissionCreated')).toHaveLength(1);
      await expect(client.create({ ...mission(), priority: 'urgent' } as never)).rejects.toThrow(/priority must be one of/);
    });

    it('when a raw command is invalid, then it lands in the rejection stream with its reason and the consumer goes on', async () => {
      const stream = system.keys.partitions[0].stream('intake');
      const sent = [
        await sender.xadd(stream, '*', 'pattern', 'mission.submit', 'data', JSON.stringify({ mission: { ...mission(), type: 'spa' } })),
        await sender.xadd(stream, '*', 'pattern', 'mission.submit', 'data', JSON.stringify({ mission: mission(), extra: 1 })),
        await sender.xadd(
          stream,
          '*',
          'pattern',
          'mission.submit',
          'data',
          '{"mission":{"type":"pricing","title":"t","description":"","priority":"low","payload":{"a":{"__proto__":{"x":1}}}}}',
        ),
        await sender.xadd(stream, '*', 'pattern', 'mission.submit', 'data', '"just a string"'),
      ];
      const rejected = await waitFor(
        async () => {
          const entries = await sender.xrange(system.keys.partitions[0].rejectedSubmissions, '-', '+');
          return entries.length === 4 ? entries : null;
        },
        { timeoutMs: 10_000, what: 'four rejections' },
      );
      // By the message each names: a batch's messages are handled side by side, so their entries need not keep the stream's order.
      const reasonOf = new Map(rejected.map(([, fields]) => [fields[fields.indexOf('messageId') + 1], fields[fields.indexOf('reason') + 1]]));
      const reasons = sent.map((messageId) => reasonOf.get(messageId ?? ''));
      expect(reasons[0]).toMatch(/mission\.type: type must be one of/);
      expect(reasons[1]).toMatch(/property extra should not exist/);
      expect(reasons[2]).toBe('key "__proto__" is not allowed');
      expect(reasons[3]).toBe('message data must be a JSON object');

      const id = await new MissionClient(sender, system.prefix).create(mission() as never);
      await system.waitForStatus(id, ['succeeded']);
    });

    it('when a raw command has a known payload key of the wrong kind, then it lands in the rejection stream naming the path and kind, and nothing is stored', async () => {
      const stream = system.keys.partitions[0].stream('intake');
      const namedId = randomUUID();
      // Each was taken: the mission ran without its safety tier, with a floor the judge never saw, without its VIP points.
      const commands = [
        { mission: mission({ payload: { safetyIssue: 'true' } }), idempotencyKey: 'payload-kind-safety' },
        { mission: mission({ type: 'pricing', payload: { currentRate: 120, minRate: '200' } }), idempotencyKey: 'payload-kind-floor' },
        { mission: mission({ type: 'guest_support', payload: { vip: 'yes', revenueAtStake: '5000' } }), missionId: namedId },
      ];
      const entryIds: string[] = [];
      for (const command of commands) entryIds.push((await sender.xadd(stream, '*', 'pattern', 'mission.submit', 'data', JSON.stringify(command))) ?? '');
      const rejections = await waitFor(
        async () => {
          const entries = await sender.xrange(system.keys.partitions[0].rejectedSubmissions, '-', '+');
          const mine = entries.map(([, fields]) => streamFields(fields)).filter((fields) => entryIds.includes(fields.messageId));
          return mine.length === commands.length ? mine : null;
        },
        { timeoutMs: 10_000, what: 'three rejections' },
      );
      expect(rejections.map(({ messageId, reason, code }) => ({ messageId, reason, code }))).toEqual([
        {
          messageId: entryIds[0],
          reason: expect.stringMatching(/^mission\.payload: payload\.safetyIssue must be a boolean \(true or false\), not the string "true": /),
          code: RejectionCode.Invalid,
        },
        {
          messageId: entryIds[1],
          reason: expect.stringMatching(/^mission\.payload: payload\.minRate must be a number, not the string "200": /),
          code: RejectionCode.Invalid,
        },
        {
          messageId: entryIds[2],
          reason: expect.stringMatching(
            /^mission\.payload: payload\.vip must be a boolean .+; payload\.revenueAtStake must be a number, not the string "5000": /,
          ),
          code: RejectionCode.Invalid,
        },
      ]);
      // Nothing stored: no mission under the named id, and each key is free for the corrected body (a recorded one would refuse another body).
      await system.api.get(`/api/missions/${namedId}`).expect(404);
      expect(await system.store.history(namedId)).toEqual([]);
      const client = new MissionClient(sender, system.prefix);
      const safety = await client.create(mission({ payload: { safetyIssue: true } }) as never, { idempotencyKey: 'payload-kind-safety' });
      const floor = await client.create(mission({ type: 'pricing', payload: { currentRate: 120, minRate: 200 } }) as never, {
        idempotencyKey: 'payload-kind-floor',
      });
      const [created] = await Promise.all(
        [safety, floor].map((id) => waitFor(() => system.store.load(id), { timeoutMs: 10_000, what: `mission ${id} created` })),
      );
      // high 55 + maintenance 6 + safety 15.
      expect(created.priorityScore).toBe(76);
      for (const id of [safety, floor]) expect((await system.store.history(id)).filter((event) => event.type === 'MissionCreated')).toHaveLength(1);
    });

    it('when a raw command nests thousands of levels deep, then it lands in the rejection stream as invalid and the intake goes on', async () => {
      const stream = system.keys.partitions[0].stream('intake');
      const levels = 5_000;
      const payload = '{"x":'.repeat(levels) + '{}' + '}'.repeat(levels);
      const data = `{"mission":{"type":"maintenance","title":"t","description":"d","priority":"normal","payload":${payload}}}`;
      const entryId = await sender.xadd(stream, '*', 'pattern', 'mission.submit', 'data', data);
      const rejection = await waitFor(
        async () => {
          const entries = await sender.xrange(system.keys.partitions[0].rejectedSubmissions, '-', '+');
          return entries.map(([, fields]) => streamFields(fields)).find((fields) => fields.messageId === entryId) ?? null;
        },
        { timeoutMs: 10_000, what: 'the rejection' },
      );
      // It used to throw a RangeError, be retried, and throw again while poisoned: the intake process stopped, at every restart.
      expect(rejection).toMatchObject({ reason: `data nests deeper than ${MAX_MESSAGE_DEPTH} levels`, code: RejectionCode.Invalid, data: '"[redacted]"' });
      expect(await sender.xlen(system.keys.partitions[0].poison('intake'))).toBe(0);
      const id = await new MissionClient(sender, system.prefix).create(mission() as never);
      await system.waitForStatus(id, ['succeeded']);
    });

    it('when a raw command is over BODY_LIMIT_BYTES, then it is refused unread as invalid and its rejection keeps none of it; a long reason is cut', async () => {
      const stream = system.keys.partitions[0].stream('intake');
      const limit = system.environment.BODY_LIMIT_BYTES;
      const large = JSON.stringify({ mission: mission({ title: 'x'.repeat(limit) }), missionId: randomUUID() });
      const largeId = await sender.xadd(stream, '*', 'pattern', 'mission.submit', 'data', large);
      // Under the limit, but a property's name of 100 KB: its reason quoted it twice, stored and logged whole.
      const longName = 'p'.repeat(100_000);
      const unknownId = await sender.xadd(stream, '*', 'pattern', 'mission.submit', 'data', JSON.stringify({ mission: mission(), [longName]: 1 }));
      const rejectionOf = async (entryId: string | null) =>
        waitFor(
          async () => {
            const entries = await sender.xrange(system.keys.partitions[0].rejectedSubmissions, '-', '+');
            return entries.map(([, fields]) => streamFields(fields)).find((fields) => fields.messageId === entryId) ?? null;
          },
          { timeoutMs: 10_000, what: `the rejection of ${entryId}` },
        );
      // It used to be parsed whole and kept whole (its title) in the rejection: three 40 MiB commands grew Redis by 140 MB.
      expect(await rejectionOf(largeId)).toMatchObject({
        reason: `data is ${Buffer.byteLength(large)} bytes, over BODY_LIMIT_BYTES ${limit}`,
        code: RejectionCode.Invalid,
        data: '"[redacted]"',
      });
      const unknown = await rejectionOf(unknownId);
      expect(unknown.code).toBe(RejectionCode.Invalid);
      expect(unknown.reason).toMatch(/^p{1000,}… \(\d+ more characters\)$/);
      expect(unknown.reason.length).toBeLessThan(2_040); // MAX_REJECTION_REASON_CHARS, and what says how much was cut
      const id = await new MissionClient(sender, system.prefix).create(mission() as never);
      await system.waitForStatus(id, ['succeeded']);
    });

    it('when a raw command is written as bytes that are not UTF-8, then it lands in the rejection stream as invalid; U+FFFD written as UTF-8 is a title like any other', async () => {
      const stream = system.keys.partitions[0].stream('intake');
      // It created the mission "bad\uFFFD\uFFFDutf8": ioredis had decoded the bytes with replacement.
      const command = (title: Buffer) =>
        Buffer.concat([
          Buffer.from('{"mission":{"type":"maintenance","title":"'),
          title,
          Buffer.from('","description":"d","priority":"normal","payload":{}}}'),
        ]);
      const entryId = await sender.xadd(stream, '*', 'pattern', 'mission.submit', 'data', command(Buffer.from('626164fffe75746638', 'hex')));
      const rejection = await waitFor(
        async () => {
          const entries = await sender.xrange(system.keys.partitions[0].rejectedSubmissions, '-', '+');
          return entries.map(([, fields]) => streamFields(fields)).find((fields) => fields.messageId === entryId) ?? null;
        },
        { timeoutMs: 10_000, what: 'the rejection' },
      );
      expect(rejection).toMatchObject({ reason: DATA_NOT_UTF8, code: RejectionCode.Invalid });
      expect(await sender.xlen(system.keys.partitions[0].poison('intake'))).toBe(0);
      const id = await new MissionClient(sender, system.prefix).create(mission({ title: 'Sign reads \uFFFD' }) as never);
      expect((await system.waitForStatus(id, ['succeeded'])).title).toBe('Sign reads \uFFFD');
    });

    it('when a raw command without id, key or source is handled twice (the intake died before its ack), then it is one mission, named after the stream entry', async () => {
      const consumer = system.intake.get(SubmissionConsumer);
      const stream = system.keys.partitions[0].stream('intake');
      const data = { mission: mission({ title: 'Fridge humming in room 310' }) };
      const entryId = '1700000000000-7';
      // The first delivery, then its redelivery after the claim idle time: the same entry both times.
      await consumer.submit(data, new RedisStreamsContext([stream, entryId, 1, 0, 5]));
      await consumer.submit(data, new RedisStreamsContext([stream, entryId, 2, 0, 5]));

      const id = missionIdForStreamEntry(stream, entryId);
      const done = await system.waitForStatus(id, ['succeeded']);
      expect(done.title).toBe('Fridge humming in room 310');
      // It used to be a fresh uuid v7 at each handling: a second mission, a second reply to the guest.
      const listed = await system.api.get('/api/missions?title=Fridge humming&limit=200').expect(200);
      expect(listed.body.items.map((item: Mission) => item.id)).toEqual([id]);
      expect((await system.store.history(id)).filter((event) => event.type === 'MissionCreated')).toHaveLength(1);
    });

    it('when a raw command names its own missionId again, then the same body is the same mission and another body is rejected with its reason', async () => {
      const consumer = system.intake.get(SubmissionConsumer);
      const id = randomUUID();
      // Handled as if read from partition 0's stream: rejections go to the stream's own partition.
      const stream = system.keys.partitions[0].stream('intake');
      const first = { mission: mission({ title: 'Leaking tap in room 412' }), missionId: id };
      await consumer.submit(first, new RedisStreamsContext([stream, '1700000000100-0', 1, 0, 5]));
      // The sender's retry of the same command, as a new entry.
      await consumer.submit(first, new RedisStreamsContext([stream, '1700000000200-0', 1, 0, 5]));
      // A sender's bug: the id again, for another mission. It used to be taken for a repeat, and the mission was lost without a word.
      await consumer.submit(
        { mission: mission({ title: 'Broken lamp in room 9' }), missionId: id },
        new RedisStreamsContext([stream, '1700000000300-0', 1, 0, 5]),
      );

      const entries = new Set(['1700000000100-0', '1700000000200-0', '1700000000300-0']);
      const rejected = (await system.redis.xrange(system.keys.partitions[0].rejectedSubmissions, '-', '+'))
        .map(([, fields]) => [fields[fields.indexOf('messageId') + 1], fields[fields.indexOf('reason') + 1]])
        .filter(([messageId]) => entries.has(messageId));
      expect(rejected).toEqual([['1700000000300-0', `missionId ${id} was submitted before with another body; a new mission needs a new missionId`]]);
      expect((await system.waitForStatus(id, ['succeeded'])).title).toBe('Leaking tap in room 412');
      expect((await system.store.history(id)).filter((event) => event.type === 'MissionCreated')).toHaveLength(1);
    });

    it('when a raw command names the id of a mission it did not create under that id, then it is refused; its own create past its record is still a redelivery', async () => {
      const consumer = system.intake.get(SubmissionConsumer);
      const stream = system.keys.partitions[0].stream('intake');
      const handle = (data: unknown, entryId: string) => consumer.submit(data, new RedisStreamsContext([stream, entryId, 1, 0, 5]));
      const viaRest = (
        await system.api
          .post('/api/missions')
          .send(mission({ title: 'Made over REST, room 7' }))
          .expect(201)
      ).body.id as string;
      await handle({ mission: mission({ title: 'Keyless, room 8' }) }, '1700000000500-0');
      const keyless = missionIdForStreamEntry(stream, '1700000000500-0');
      // A guest's text, sealed at create: the comparison opens it.
      const guestRequest = mission({
        type: 'guest_support',
        title: 'Towels, room 9',
        payload: { room: '9', guest: { id: 'g-9', name: 'Ida Berg' }, message: 'More towels' },
      });
      const named = randomUUID();
      await handle({ mission: guestRequest, missionId: named }, '1700000000600-0');
      await system.redis.del(system.keys.of(named).idempotency(namedIdKey(named))); // what the ttl does

      // Each used to be acked as a redelivery: nothing created, nothing rejected, no word to the sender.
      await handle({ mission: mission({ title: 'Wanted, room 10' }), missionId: viaRest }, '1700000000700-0');
      await handle({ mission: mission({ title: 'Made over REST, room 7' }), missionId: viaRest }, '1700000000700-1');
      await handle({ mission: mission({ title: 'Wanted, room 11' }), missionId: keyless }, '1700000000700-2');
      await handle({ mission: { ...guestRequest, priority: 'low' }, missionId: named }, '1700000000700-3');
      // The sender's own command again, its record expired: still a redelivery.
      await handle({ mission: guestRequest, missionId: named }, '1700000000700-4');

      const rejected = (await system.redis.xrange(system.keys.partitions[0].rejectedSubmissions, '-', '+'))
        .map(([, fields]) => streamFields(fields))
        .filter((fields) => fields.messageId.startsWith('1700000000700-'));
      expect(rejected.map(({ messageId, code, reason }) => ({ messageId, code, reason }))).toEqual(
        [
          ['1700000000700-0', viaRest],
          ['1700000000700-1', viaRest],
          ['1700000000700-2', keyless],
          ['1700000000700-3', named],
        ].map(([messageId, id]) => ({
          messageId,
          code: RejectionCode.Refused,
          reason: expect.stringContaining(`missionId ${id} names a mission this command did not create`),
        })),
      );
      for (const id of [viaRest, keyless, named]) expect((await system.store.history(id)).filter((event) => event.type === 'MissionCreated')).toHaveLength(1);
      const wanted = await system.api.get('/api/missions?title=Wanted&limit=200').expect(200);
      expect(wanted.body.items).toEqual([]);

      // Its guest erased, its create reads [erased] where the guest's text was: still its own create, a
      // redelivery. It was refused as made "by another sender, or from another body".
      await system.api.delete('/api/subjects/guest:g-9').send({ reason: 'erasure request' }).expect(200);
      await handle({ mission: guestRequest, missionId: named }, '1700000000800-0');
      await handle({ mission: { ...guestRequest, title: 'Towels, room 12' }, missionId: named }, '1700000000800-1');
      const afterErasure = (await system.redis.xrange(system.keys.partitions[0].rejectedSubmissions, '-', '+'))
        .map(([, fields]) => streamFields(fields))
        .filter((fields) => fields.messageId.startsWith('1700000000800-'));
      expect(afterErasure.map(({ messageId, code }) => ({ messageId, code }))).toEqual([{ messageId: '1700000000800-1', code: RejectionCode.Refused }]);
    });

    it('when a rejected command is handled twice (the intake died before its ack), then it is recorded and counted once', async () => {
      const consumer = system.intake.get(SubmissionConsumer);
      const stream = system.keys.partitions[0].stream('intake');
      const entryId = '1700000000400-0';
      // The counter's line for this stream; its label holds the partition's hash tag, braces and all.
      const rejectedCount = async () => {
        const line = (await system.api.get('/metrics').expect(200)).text
          .split('\n')
          .find((text) => text.startsWith('brain_stream_rejected_total{') && text.includes(':stream:intake"'));
        return Number(line?.split(' ').pop() ?? 0);
      };
      const counted = await rejectedCount();
      const data = { mission: mission({ type: 'spa', title: 'Sauna booking' }) };
      await consumer.submit(data, new RedisStreamsContext([stream, entryId, 1, 0, 5]));
      await consumer.submit(data, new RedisStreamsContext([stream, entryId, 2, 0, 5]));

      // Each delivery added its entry: 21 of 500 refused commands were recorded twice after a kill -9.
      const entries = (await system.redis.xrange(system.keys.partitions[0].rejectedSubmissions, '-', '+')).filter(
        ([, fields]) => fields[fields.indexOf('messageId') + 1] === entryId,
      );
      expect(entries).toHaveLength(1);
      expect(await rejectedCount()).toBe(counted + 1);
    });
  });

  describe('given the rejected-submission stream at its bound (FAILED_STREAM_MAX_LEN)', () => {
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-rejected-bound', { FAILED_STREAM_MAX_LEN: '2' });
    });
    afterAll(async () => system.close());

    it('when more commands are rejected than it keeps, then it holds the newest that many', async () => {
      const consumer = system.intake.get(SubmissionConsumer);
      const stream = system.keys.partitions[0].stream('intake');
      for (const n of [1, 2, 3]) {
        await consumer.submit({ mission: mission({ type: 'spa', title: `spa ${n}` }) }, new RedisStreamsContext([stream, `1700000000000-${n}`, 1, 0, 5]));
      }
      // It used to keep every one: a sender that kept sending bad commands grew it without bound.
      const kept = await system.redis.xrange(system.keys.partitions[0].rejectedSubmissions, '-', '+');
      expect(kept.map(([, fields]) => fields[fields.indexOf('messageId') + 1])).toEqual(['1700000000000-2', '1700000000000-3']);
    });
  });

  describe('given two API keys and internal senders sharing idempotency keys', () => {
    let system: InProcessSystem;
    let sender: Redis;
    const as = (key: string) => ({
      post: (path: string) => request(system.intake.getHttpServer()).post(path).set('Authorization', `Bearer ${key}`),
    });
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-idempotency', { MOCK_LLM_LATENCY_MS: '60000', IDEMPOTENCY_TTL_SECONDS: '3600' });
      sender = testRedis();
    });
    afterAll(async () => {
      await sender.quit();
      await system.close();
    });

    it('when a key is repeated with another body, then it is a 422 and nothing is written; with the same body, the first mission (200)', async () => {
      const first = await as(TEST_KEYS.submitter).post('/api/missions').set('Idempotency-Key', 'ticket-1').send(mission()).expect(201);
      const missionCount = () => Promise.all(system.keys.partitions.map((p) => system.redis.zcard(p.missionIndex))).then((n) => n.reduce((a, b) => a + b, 0));
      const before = await missionCount();
      const other = await as(TEST_KEYS.submitter)
        .post('/api/missions')
        .set('Idempotency-Key', 'ticket-1')
        .send(mission({ title: 'Pay 10,000 EUR to IBAN X' }))
        .expect(422);
      expect(other.body).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity', message: expect.stringContaining(first.body.id) });
      expect(await missionCount()).toBe(before);
      expect((await system.store.history(first.body.id)).filter((e) => e.type === 'MissionCreated')).toHaveLength(1);
      const same = await as(TEST_KEYS.submitter).post('/api/missions').set('Idempotency-Key', 'ticket-1').send(mission()).expect(200);
      expect(same.body.id).toBe(first.body.id);
    });

    it('when a key is repeated with optional fields sent as null that the first create left out, or the other way round, then it is the first mission (200)', async () => {
      // Null stands for a field left out; the retry was refused as "used ... with another body".
      const nulls = { requiredSkills: null, deadline: null, notBefore: null, subjects: null, source: null };
      const first = await as(TEST_KEYS.submitter).post('/api/missions').set('Idempotency-Key', 'ticket-nulls').send(mission()).expect(201);
      const retry = await as(TEST_KEYS.submitter).post('/api/missions').set('Idempotency-Key', 'ticket-nulls').send(mission(nulls)).expect(200);
      expect(retry.body.id).toBe(first.body.id);
      const withNulls = await as(TEST_KEYS.submitter).post('/api/missions').set('Idempotency-Key', 'ticket-nulls-2').send(mission(nulls)).expect(201);
      const without = await as(TEST_KEYS.submitter).post('/api/missions').set('Idempotency-Key', 'ticket-nulls-2').send(mission()).expect(200);
      expect(without.body.id).toBe(withNulls.body.id);
    });

    it('when another API key uses the same idempotency key, then it gets a mission of its own (no squatting)', async () => {
      const squatter = await as(TEST_KEYS.operator)
        .post('/api/missions')
        .set('Idempotency-Key', 'ticket-2')
        .send(mission({ title: 'squatted' }))
        .expect(201);
      const owner = await as(TEST_KEYS.submitter).post('/api/missions').set('Idempotency-Key', 'ticket-2').send(mission()).expect(201);
      expect(owner.body.id).not.toBe(squatter.body.id);
      expect(owner.body.title).toBe(mission().title);
    });

    it('when source records whose parts concatenate alike are created, then they are two missions', async () => {
      const a = await as(TEST_KEYS.submitter)
        .post('/api/missions')
        .send(mission({ source: { system: 'odoo:x', model: 'y', recordId: 1 } }))
        .expect(201);
      const b = await as(TEST_KEYS.submitter)
        .post('/api/missions')
        .send(mission({ source: { system: 'odoo', model: 'x:y', recordId: 1 } }))
        .expect(201);
      expect(a.body.id).not.toBe(b.body.id);
    });

    it('when the idempotency record has lived IDEMPOTENCY_TTL_SECONDS, then it is gone from Redis, and the spent key is a 422', async () => {
      const created = await as(TEST_KEYS.submitter).post('/api/missions').set('Idempotency-Key', 'ticket-3').send(mission()).expect(201);
      const record = system.keys.of(created.body.id).idempotency(deduplicationKey(apiScope('submitter'), {}, 'ticket-3') ?? '');
      const ttl = await system.redis.pttl(record);
      expect(ttl).toBeGreaterThan(3_500_000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
      await system.redis.del(record); // what the ttl does, without waiting an hour
      const spent = await as(TEST_KEYS.submitter).post('/api/missions').set('Idempotency-Key', 'ticket-3').send(mission()).expect(422);
      expect(spent.body.message).toMatch(/record expired \(IDEMPOTENCY_TTL_SECONDS 3600\)/);
    });

    it('when missions are created, cancelled and requeued through the API, then every event names the API key as its actor', async () => {
      const created = await as(TEST_KEYS.submitter)
        .post('/api/missions')
        .send(mission({ title: 'actor check' }))
        .expect(201);
      await as(TEST_KEYS.operator).post(`/api/missions/${created.body.id}/cancel`).send({ reason: 'not needed' }).expect(200);
      const history = await system.store.history(created.body.id);
      expect(history.map((e) => [e.type, e.actor])).toEqual([
        ['MissionCreated', 'submitter'],
        ['MissionQueued', 'submitter'],
        ...history.slice(2, -1).map((e) => [e.type, e.actor]),
        ['MissionCancelled', 'operator'],
      ]);
      await as(TEST_KEYS.operator)
        .post('/api/agents')
        .send({ id: 'agent-audit', name: 'Audit', skills: ['german'], capacity: 1, credits: 1, model: 'm', systemPrompt: 'You help.' })
        .expect(201);
      const agentLog = await system.redis.xrange(system.keys.agentLog('agent-audit'), '-', '+');
      expect(agentLog.map(([, fields]) => fields.join(' '))).toEqual([expect.stringContaining('"actor":"operator"')]);
    });

    it('when the stream repeats a key with another body or sends too much text, then the command is rejected with its reason; stream missions name the stream as actor', async () => {
      // The system's own connection: cluster-aware, and the client spreads over the deployment's partitions.
      const client = new MissionClient(system.redis, system.prefix, system.environment.LOG_PARTITIONS);
      const id = await client.create(mission() as never, { idempotencyKey: 'ticket-1' });
      // The stream is a scope of its own: the REST client's ticket-1 is another mission.
      const rest = await as(TEST_KEYS.submitter).post('/api/missions').set('Idempotency-Key', 'ticket-1').send(mission()).expect(200);
      expect(id).not.toBe(rest.body.id);
      const created = await system.waitForStatus(id, ['queued', 'assigned', 'running']);
      expect((await system.store.history(created.id))[0].actor).toBe('stream:mission.submit');

      const stream = system.keys.of(id).stream('intake');
      await system.redis.xadd(
        stream,
        '*',
        'pattern',
        'mission.submit',
        'data',
        JSON.stringify({ mission: mission({ title: 'changed' }), missionId: id, idempotencyKey: 'ticket-1' }),
      );
      await system.redis.xadd(
        stream,
        '*',
        'pattern',
        'mission.submit',
        'data',
        JSON.stringify({ mission: mission({ payload: { blob: 'z'.repeat(40_000) } }) }),
      );
      const partition = system.keys.of(id);
      const rejected = await waitFor(
        async () => {
          const entries = await system.redis.xrange(partition.rejectedSubmissions, '-', '+');
          return entries.length === 2 ? entries : null;
        },
        { timeoutMs: 10_000, what: 'the rejections' },
      );
      const reasons = rejected.map(([, fields]) => fields[fields.indexOf('reason') + 1]);
      // A batch is handled concurrently, so the two may be rejected in either order.
      expect(reasons).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`used for mission ${id} with another body`)),
          expect.stringMatching(/is \d+ bytes, over MAX_MISSION_TEXT_BYTES 32768/),
        ]),
      );
      expect(missionIdFor(SUBMISSION_STREAM_SCOPE, {}, 'ticket-1')).toBe(id);
    });
  });

  describe('given idempotency records made before fingerprints were keyed, and under a master key that is a previous one now', () => {
    const PREVIOUS_SECRET = 'previous-master-key-for-idempotency-0123456789';
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-idempotency-rotated', { MOCK_LLM_LATENCY_MS: '60000', DATA_KEY_PREVIOUS_SECRETS: PREVIOUS_SECRET });
    });
    afterAll(async () => system.close());

    const guestBody = (key: string) =>
      mission({
        payload: { room: '204', guest: { id: `g-${key}`, name: 'Anna Schmidt', email: 'anna.schmidt@example.com' }, message: 'the AC blows warm air' },
      });

    it.each([
      { made: 'before fingerprints were keyed (their plain SHA-256)', key: 'ticket-plain', fingerprintOf: plainBodyFingerprint },
      {
        made: 'under the previous master key',
        key: 'ticket-previous',
        fingerprintOf: (body: MissionCreateDto) => createFingerprints(MasterKeyRing.fromSecrets(PREVIOUS_SECRET), body).fingerprint,
      },
    ])(
      'when a create whose record was made $made is retried, then the same body is its mission (200) and another body a 422',
      async ({ key, fingerprintOf }) => {
        const body = guestBody(key);
        const created = await system.api.post('/api/missions').set('Idempotency-Key', key).send(body).expect(201);
        const record = system.keys.of(created.body.id).idempotency(deduplicationKey(apiScope('operator'), {}, key) ?? '');
        const current = createFingerprints(MasterKeyRing.fromSecrets(TEST_DATA_KEY_SECRET), body as MissionCreateDto).fingerprint;
        expect(await system.redis.get(record)).toBe(`${created.body.id} ${current}`);
        // The record as a create of that time left it, its life unchanged.
        const former = `${created.body.id} ${fingerprintOf(body as MissionCreateDto)}`;
        await system.redis.set(record, former, 'KEEPTTL');

        const retry = await system.api.post('/api/missions').set('Idempotency-Key', key).send(body).expect(200);
        expect(retry.body.id).toBe(created.body.id);
        const other = await system.api
          .post('/api/missions')
          .set('Idempotency-Key', key)
          .send({ ...body, title: 'AC broken in room 205' })
          .expect(422);
        expect(other.body.message).toContain(created.body.id);
        // A repeat writes nothing: the record keeps what it held.
        expect(await system.redis.get(record)).toBe(former);
      },
    );
  });

  describe('given one API key name with two secrets, as during a rotation', () => {
    const OLD_SECRET = 'odoo-2025-secret-0123456789';
    const NEW_SECRET = 'odoo-2026-secret-0123456789';
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-key-rotation', {
        MOCK_LLM_LATENCY_MS: '60000',
        API_KEYS: `operator:${TEST_KEYS.operator}:operator,odoo:${OLD_SECRET}:submitter,odoo:${NEW_SECRET}:submitter`,
      });
    });
    afterAll(async () => system.close());
    const as = (secret: string) => ({
      get: (path: string) => request(system.intake.getHttpServer()).get(path).set('Authorization', `Bearer ${secret}`),
      post: (path: string) => request(system.intake.getHttpServer()).post(path).set('Authorization', `Bearer ${secret}`),
    });

    it('when a create is retried under the other secret with the same Idempotency-Key or Odoo source, then it is the first mission (200)', async () => {
      const first = await as(OLD_SECRET).post('/api/missions').set('Idempotency-Key', 'rotated-1').send(mission()).expect(201);
      const retried = await as(NEW_SECRET).post('/api/missions').set('Idempotency-Key', 'rotated-1').send(mission()).expect(200);
      expect(retried.body.id).toBe(first.body.id);

      const sourced = mission({ title: 'from Odoo', source: { system: 'odoo', model: 'helpdesk.ticket', recordId: 7 } });
      const fromOld = await as(OLD_SECRET).post('/api/missions').send(sourced).expect(201);
      const fromNew = await as(NEW_SECRET).post('/api/missions').send(sourced).expect(200);
      expect(fromNew.body.id).toBe(fromOld.body.id);
      expect((await system.store.history(first.body.id))[0]).toMatchObject({ type: 'MissionCreated', actor: 'odoo' });
    });

    it('when either secret asks who it is, then both are the one key', async () => {
      for (const secret of [OLD_SECRET, NEW_SECRET]) expect((await as(secret).get('/api/me').expect(200)).body).toEqual({ name: 'odoo', role: 'submitter' });
    });
  });
});
