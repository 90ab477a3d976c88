import { AddressInfo } from 'node:net';
import request from 'supertest';
import { Mission, MissionEvent } from '@app/mission';
import { waitFor } from '@app/testing';
import { followStream, StreamMessage } from '../../scripts/ctl/follow-stream';
import { LATE_CHECK_OUT } from '../support/guest-request';
import { InProcessSystem, startInProcessSystem, TEST_API_KEYS, TEST_KEYS } from '../support/in-process-system';

const PARTNER_A = 'partner-a-secret-0000001';
const PARTNER_B = 'partner-b-secret-0000001';
const UNKNOWN_ID = '01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e';

/** A guest's request that waits an hour before it is queued, so it is still open to a cancel. */
const later = (title: string) => ({ ...LATE_CHECK_OUT, title, notBefore: new Date(Date.now() + 3_600_000).toISOString() });

describe('client keys: each reads, lists, cancels and follows only the missions it created (four services, real Redis)', () => {
  let system: InProcessSystem;
  let base: string;
  beforeAll(async () => {
    system = await startInProcessSystem('e2e-client-keys', { API_KEYS: `${TEST_API_KEYS},partner-a:${PARTNER_A}:client,partner-b:${PARTNER_B}:client` });
    await system.intake.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(system.intake.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => system.close());

  const as = (secret: string) => {
    const server = () => system.intake.getHttpServer();
    const auth = { Authorization: `Bearer ${secret}` };
    return {
      get: (path: string) => request(server()).get(path).set(auth),
      post: (path: string, body: object = {}) => request(server()).post(path).set(auth).send(body),
    };
  };
  const a = as(PARTNER_A);
  const b = as(PARTNER_B);
  const operator = as(TEST_KEYS.operator);
  /** The stream from the start of the log until an event of mission `until` has come. */
  async function streamed(headers: Record<string, string>, query: string, until: string): Promise<MissionEvent[]> {
    const abort = new AbortController();
    const messages: StreamMessage[] = [];
    const done = followStream(`${base}/api/stream?from=start${query}`, headers, (message) => messages.push(message), abort.signal);
    try {
      return await waitFor(
        async () => {
          const events = messages.map((message) => JSON.parse(message.data) as MissionEvent);
          return events.some((event) => event.missionId === until) ? events : null;
        },
        { timeoutMs: 10_000, what: 'the stream to catch up' },
      );
    } finally {
      abort.abort();
      await done;
    }
  }

  const listed = async (client: ReturnType<typeof as>) => ((await client.get('/api/missions?limit=200').expect(200)).body.items as Mission[]).map((m) => m.id);

  it("given A's mission, then B gets for it, on every route, word for word the 404 of an unknown id; A and the operator see it, A its guest data in plain", async () => {
    const created = await a.post('/api/missions', later('A: late check-out')).expect(201);
    const mission = created.body as Mission;
    expect(mission.createdBy).toBe('partner-a');
    expect(mission.payload).toMatchObject({ guest: { name: 'Anna Schmidt' } });
    const ofB = (await b.post('/api/missions', later('B: late check-out')).expect(201)).body as Mission;
    const ofOperator = (await operator.post('/api/missions', later('operator: late check-out')).expect(201)).body as Mission;

    // What an unknown id answers, with A's id in its place: nothing tells B that A's mission exists.
    const asUnknown = async (path: (id: string) => string, send: (path: string) => request.Test) => {
      const unknown = (await send(path(UNKNOWN_ID)).expect(404)).body as { message: string };
      const hidden = (await send(path(mission.id)).expect(404)).body as { message: string };
      expect(hidden).toEqual({ ...unknown, message: unknown.message.replace(UNKNOWN_ID, mission.id) });
    };
    await asUnknown((id) => `/api/missions/${id}`, b.get);
    await asUnknown((id) => `/api/missions/${id}?at=${encodeURIComponent(new Date().toISOString())}`, b.get);
    await asUnknown((id) => `/api/missions/${id}/events`, b.get);
    await asUnknown(
      (id) => `/api/missions/${id}/cancel`,
      (path) => b.post(path, { reason: 'not mine' }),
    );
    // The operator's mission is as hidden from a client as A's.
    await b.get(`/api/missions/${ofOperator.id}`).expect(404);

    expect(await listed(b)).toEqual([ofB.id]);
    expect(await listed(a)).toEqual([mission.id]);
    expect(await listed(operator)).toEqual(expect.arrayContaining([mission.id, ofB.id, ofOperator.id]));
    expect((await system.store.load(mission.id))?.status).toBe('scheduled');

    const read = (await a.get(`/api/missions/${mission.id}`).expect(200)).body as Mission;
    expect(read.payload).toMatchObject({ guest: { name: 'Anna Schmidt' } });
    const events = (await a.get(`/api/missions/${mission.id}/events`).expect(200)).body as MissionEvent[];
    expect(events[0]).toMatchObject({ type: 'MissionCreated', actor: 'partner-a' });
    await a.get(`/api/missions/${mission.id}?at=${encodeURIComponent(new Date().toISOString())}`).expect(200);
  });

  it('given A cancels its own mission, then it is cancelled with A as actor; B could not, and the operator still can cancel B’s', async () => {
    const mission = (await a.post('/api/missions', later('A: to cancel')).expect(201)).body as Mission;
    await b.post(`/api/missions/${mission.id}/cancel`).expect(404);
    expect((await system.store.load(mission.id))?.status).toBe('scheduled');

    const cancelled = (await a.post(`/api/missions/${mission.id}/cancel`, { reason: 'guest changed plans' }).expect(200)).body as Mission;
    expect(cancelled.status).toBe('cancelled');
    const history = await system.store.history(mission.id);
    expect(history.at(-1)).toMatchObject({ type: 'MissionCancelled', actor: 'partner-a' });

    const ofB = (await b.post('/api/missions', later('B: operator cancels')).expect(201)).body as Mission;
    expect(((await operator.post(`/api/missions/${ofB.id}/cancel`).expect(200)).body as Mission).status).toBe('cancelled');
  });

  it("given missions of A, B and the operator, then A's live stream, by header or by its token, carries only A's missions' events, guest data in plain", async () => {
    const ofA = (await a.post('/api/missions', later('A: on the stream')).expect(201)).body as Mission;
    const ofB = (await b.post('/api/missions', later('B: on the stream')).expect(201)).body as Mission;
    const ofOperator = (await operator.post('/api/missions', later('operator: on the stream')).expect(201)).body as Mission;
    // Appended after the others: once A's stream has it, it has read past every event before it.
    const lastOfA = (await a.post('/api/missions', later('A: last on the stream')).expect(201)).body as Mission;
    const token = (await a.post('/api/stream/tokens').expect(201)).body.token as string;

    for (const [headers, query] of [
      [{ Authorization: `Bearer ${PARTNER_A}` }, ''],
      [{}, `&token=${encodeURIComponent(token)}`],
    ] as const) {
      const events = await streamed(headers, query, lastOfA.id);
      const missions = new Set(events.map((event) => event.missionId));
      expect(missions.has(ofA.id)).toBe(true);
      expect(missions.has(ofB.id)).toBe(false);
      expect(missions.has(ofOperator.id)).toBe(false);
      // Every mission on it, those of the tests before included, is one A created, as stored.
      for (const missionId of missions)
        expect({ missionId, createdBy: (await system.store.load(missionId))?.createdBy }).toEqual({ missionId, createdBy: 'partner-a' });
      expect(events.find((event) => event.missionId === ofA.id && event.type === 'MissionCreated')).toMatchObject({
        data: { payload: { guest: { name: 'Anna Schmidt' } } },
      });
    }
  });

  it("given A's live stream, then its positions are sealed: none tells when the log moved, only A resumes from them, and it misses nothing", async () => {
    const PLAIN = /^\d+-\d+(\.\d+-\d+)*$/;
    /** Every message of a stream (from a position, when given) until one of mission `until`, and where it started. */
    const follow = async (secret: string, until: string, lastEventId?: string) => {
      const abort = new AbortController();
      const messages: StreamMessage[] = [];
      let start = '';
      const headers = { Authorization: `Bearer ${secret}`, ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) };
      const done = followStream(
        `${base}/api/stream${lastEventId ? '' : '?from=start'}`,
        headers,
        (message) => messages.push(message),
        abort.signal,
        (at) => (start = at),
      );
      try {
        await waitFor(async () => messages.some((message) => (JSON.parse(message.data) as MissionEvent).missionId === until), {
          timeoutMs: 10_000,
          what: 'the stream to reach the mission',
        });
        return { start, messages };
      } finally {
        abort.abort();
        await done;
      }
    };
    const first = (await a.post('/api/missions', later('A: before the drop')).expect(201)).body as Mission;
    const seen = await follow(PARTNER_A, first.id);
    // Each id was the log position, other keys' events included: its times said when they came.
    for (const id of [seen.start, ...seen.messages.map((message) => message.id ?? '')]) expect(id).not.toMatch(PLAIN);

    // Resumed from its last id, A gets what came after it, and only that.
    const ofB = (await b.post('/api/missions', later('B: meanwhile')).expect(201)).body as Mission;
    const second = (await a.post('/api/missions', later('A: after the drop')).expect(201)).body as Mission;
    const resumed = await follow(PARTNER_A, second.id, seen.messages.at(-1)?.id);
    const missions = resumed.messages.map((message) => (JSON.parse(message.data) as MissionEvent).missionId);
    expect(missions).toContain(second.id);
    expect(missions).not.toContain(first.id);
    expect(missions).not.toContain(ofB.id);

    // Another key cannot use A's position, nor A a position in plain; an operator's stay in plain.
    const lastOfA = seen.messages.at(-1)?.id as string;
    const refused = await b.get('/api/stream').set('Last-Event-ID', lastOfA).expect(400);
    expect(refused.body.message).toBe('Last-Event-ID is not a stream position this API key was sent: reconnect without it');
    const plain = (await follow(TEST_KEYS.operator, second.id)).messages.at(-1)?.id as string;
    expect(plain).toMatch(PLAIN);
    await a.get('/api/stream').set('Last-Event-ID', plain).expect(400);
  });

  it('given a client key, then every route but its own missions’ is a 403, the body unread', async () => {
    for (const path of [
      '/api/missions/queue/stats',
      '/api/agents',
      '/api/reviews',
      '/api/dlq',
      '/api/reports/daily',
      '/api/webhooks',
      '/api/schedules',
      '/api/me',
    ]) {
      await a.get(path).expect(403);
    }
    await a.post(`/api/missions/${UNKNOWN_ID}/approve`, { note: 'ok' }).expect(403);
  });
});
