import { EventEmitter, once } from 'node:events';
import { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import express, { Response } from 'express';
import request from 'supertest';
import { MissionEvent, UNAVAILABLE_MARKER } from '@app/mission';
import { waitFor } from '@app/testing';
import { EventStreamService } from '../../apps/intake/src/stream/event-stream.service';
import { followStream, StreamMessage, StreamRefusedError } from '../../scripts/ctl/follow-stream';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

const PARTITIONS = 3;
const MAX_CLIENTS = 6;
const MAX_CLIENTS_PER_KEY = 4;
/** The headers of the i-th of several streams: spread over two keys, so none reaches MAX_CLIENTS_PER_KEY. */
const spreadKey = (i: number) => ({ Authorization: `Bearer ${i % 2 === 0 ? TEST_KEYS.reader : TEST_KEYS.operator}` });
const pricing = (title: string) => ({ type: 'pricing', title, description: 'Compare the weekend rates.', priority: 'low', payload: {} });

interface Follower {
  messages: StreamMessage[];
  /** The `unavailable` events' data: why the events after each show personal fields they could not open. */
  notices: string[];
  events: () => MissionEvent[];
  stop: () => void;
  done: Promise<void>;
}

describe('GET /api/stream: live mission events (four services, real Redis, partitioned log)', () => {
  let system: InProcessSystem;
  let base: string;
  const followers: Follower[] = [];

  const follow = (query = '', headers: Record<string, string> = { Authorization: `Bearer ${TEST_KEYS.reader}` }): Follower => {
    const abort = new AbortController();
    const messages: StreamMessage[] = [];
    const notices: string[] = [];
    const done = followStream(
      `${base}/api/stream${query}`,
      headers,
      (message) => messages.push(message),
      abort.signal,
      undefined,
      (body) => notices.push(body),
    );
    const follower = {
      messages,
      notices,
      events: () => messages.map((message) => JSON.parse(message.data) as MissionEvent),
      stop: () => abort.abort(),
      done,
    };
    followers.push(follower);
    return follower;
  };
  const eventsOf = (follower: Follower, missionId: string) => follower.events().filter((event) => event.missionId === missionId);
  const until = <T>(what: string, probe: () => T | undefined | false) => waitFor(async () => probe(), { timeoutMs: 20_000, what });
  /** Opens a stream and returns once the server has registered it, so nothing appended after is missed. */
  const opened = async (query = '', headers?: Record<string, string>) => {
    const stream = system.intake.get(EventStreamService);
    const before = stream.clientCount;
    const follower = follow(query, headers);
    await until('the stream to open', () => stream.clientCount > before);
    return follower;
  };

  beforeAll(async () => {
    system = await startInProcessSystem('e2e-live-stream', {
      LOG_PARTITIONS: String(PARTITIONS),
      SSE_HEARTBEAT_MS: '300',
      SSE_SLOW_CLIENT_MS: '500',
      SSE_MAX_CLIENTS: String(MAX_CLIENTS),
      SSE_MAX_CLIENTS_PER_KEY: String(MAX_CLIENTS_PER_KEY),
    });
    await system.intake.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(system.intake.getHttpServer().address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const follower of followers.splice(0)) follower.stop();
    const stream = system.intake.get(EventStreamService);
    await until('every stream to close', () => stream.clientCount === 0);
  });
  afterAll(async () => system.close());

  it('given a mission created through the API, then its events arrive in order, each with the log position of every partition as id', async () => {
    const stream = await opened();
    const created = await system.api.post('/api/missions').send(pricing('Live one')).expect(201);
    const mission = await system.waitForStatus(created.body.id, ['succeeded']);
    const events = await until('the mission to succeed on the stream', () => {
      const seen = eventsOf(stream, mission.id);
      return seen.length === mission.version && seen;
    });
    expect(events.map((event) => event.version)).toEqual(Array.from({ length: mission.version }, (_, i) => i + 1));
    expect(events[0]).toMatchObject({ type: 'MissionCreated', actor: 'operator', missionId: mission.id });
    expect(events.at(-1)).toMatchObject({ type: 'MissionEvaluated' });
    expect(events).toEqual(await system.store.history(mission.id));
    for (const message of stream.messages) expect(message.id?.split('.')).toHaveLength(PARTITIONS);
  });

  /**
   * Stream messages' data, each partition's in the order they came. The stream keeps a position in
   * each partition, and promises each partition's (so each mission's) order; entries of two
   * partitions appended within the same millisecond come live in the order they were read, and on a
   * resume, reading both at once, in partition order.
   */
  const byPartition = (data: readonly string[]): string[][] => {
    const partitions: string[][] = Array.from({ length: PARTITIONS }, () => []);
    for (const text of data) partitions[system.keys.partitionOf((JSON.parse(text) as MissionEvent).missionId)].push(text);
    return partitions;
  };

  it('given a Last-Event-ID from the middle of the stream, then the resumed stream goes on right after it: nothing lost, nothing repeated', async () => {
    const first = await opened();
    const ids: string[] = [];
    for (const title of ['Resume a', 'Resume b', 'Resume c', 'Resume d'])
      ids.push((await system.api.post('/api/missions').send(pricing(title)).expect(201)).body.id);
    for (const id of ids) await system.waitForStatus(id, ['succeeded']);
    const expected = (await Promise.all(ids.map((id) => system.store.history(id)))).flat().length;
    await until('every event of the four missions', () => first.events().filter((event) => ids.includes(event.missionId)).length === expected);
    first.stop();

    const cut = Math.floor(first.messages.length / 2);
    const resumed = follow('', { Authorization: `Bearer ${TEST_KEYS.reader}`, 'Last-Event-ID': first.messages[cut - 1].id as string });
    const rest = first.messages.slice(cut).map((message) => message.data);
    await until('the resumed stream to catch up', () => resumed.messages.length >= rest.length && resumed);
    expect(byPartition(resumed.messages.slice(0, rest.length).map((message) => message.data))).toEqual(byPartition(rest));

    // The same through the query parameter, for a client that cannot set headers.
    const viaQuery = follow(`?lastEventId=${encodeURIComponent(first.messages[cut - 1].id as string)}`);
    await until('the query-resumed stream to catch up', () => viaQuery.messages.length >= rest.length);
    expect(byPartition(viaQuery.messages.slice(0, rest.length).map((message) => message.data))).toEqual(byPartition(rest));
  });

  it('given a stream that drops before its first event, when it resumes from the position it opened at, then the events appended meanwhile arrive', async () => {
    const stream = system.intake.get(EventStreamService);
    const abort = new AbortController();
    let position: string | undefined;
    const done = followStream(
      `${base}/api/stream`,
      { Authorization: `Bearer ${TEST_KEYS.reader}` },
      () => undefined,
      abort.signal,
      (at) => (position = at),
    );
    await until('the stream to tell where it starts', () => position !== undefined && stream.clientCount === 1);
    expect(position?.split('.')).toHaveLength(PARTITIONS);
    abort.abort();
    await done;

    const id = (await system.api.post('/api/missions').send(pricing('Created while the stream was down')).expect(201)).body.id as string;
    await system.waitForStatus(id, ['succeeded']);
    const resumed = follow(`?missionId=${id}`, { Authorization: `Bearer ${TEST_KEYS.reader}`, 'Last-Event-ID': position as string });
    const expected = (await system.store.history(id)).map((event) => event.type);
    await until('every event of the mission', () => resumed.events().length === expected.length);
    expect(resumed.events().map((event) => event.type)).toEqual(expected);
  });

  it('given from=start, then the whole log replays from the first event', async () => {
    const replay = follow('?type=MissionCreated&from=start');
    const total = await system.statusCount('succeeded');
    await until('every creation in the log', () => replay.messages.length >= total);
    expect(new Set(replay.events().map((event) => event.type))).toEqual(new Set(['MissionCreated']));
  });

  it('given an event whose guest data was altered in the log, then it comes with its personal fields unavailable after one unavailable event naming its mission, and the stream goes on', async () => {
    const guest = (
      await system.api
        .post('/api/missions')
        .send({
          type: 'guest_support',
          title: 'Towels for room 9',
          description: 'The guest asks for towels.',
          priority: 'low',
          payload: { language: 'en', guest: { id: 'g-altered', name: 'Tom Altered' }, message: 'Two more towels, please.' },
        })
        .expect(201)
    ).body as { id: string };
    // As someone with write access to Redis could: the create once more, a character of its ciphertext changed.
    const log = system.keys.of(guest.id).log;
    const created = (await system.redis.xrange(log, '-', '+')).map(([, fields]) => fields).find((fields) => fields.includes(guest.id));
    const json = created?.[created.indexOf('e') + 1] ?? '';
    const token = (JSON.parse(json) as { data: { description: string } }).data.description;
    const altered = token.slice(0, -10) + (token.at(-10) === 'A' ? 'B' : 'A') + token.slice(-9);
    await system.redis.xadd(log, '*', 'm', guest.id, 'e', json.replace(token, altered));
    const stream = await opened('?from=start', { Authorization: `Bearer ${TEST_KEYS.operator}` });

    // It used to drop the connection at that event, silently, and again on every reconnect: nothing after it came.
    const later = (await system.api.post('/api/missions').send(pricing('Rates after the altered one')).expect(201)).body as { id: string };
    await until('the mission after the altered event', () => eventsOf(stream, later.id).length > 0);
    const shown = eventsOf(stream, guest.id).filter((event) => event.type === 'MissionCreated');
    expect(shown).toHaveLength(2);
    expect(shown[0]).toMatchObject({ data: { description: 'The guest asks for towels.' } });
    expect(shown[1]).toMatchObject({
      data: { description: UNAVAILABLE_MARKER, payload: { message: UNAVAILABLE_MARKER, guest: { name: UNAVAILABLE_MARKER } } },
    });
    expect(stream.notices.map((notice) => JSON.parse(notice) as unknown)).toEqual([
      { statusCode: 500, error: 'Internal Server Error', message: expect.stringMatching(new RegExp(`altered.*\\(mission ${guest.id}\\)$`)), details: [] },
    ]);
  });

  // A client key's stream parsed the state of every mission it met to tell whether it is its own: one
  // not JSON dropped it ("Unexpected token…"), and every reconnect dropped again at the same place.
  it("given a mission whose state was changed past reading, then a client key's stream passes over it as another's and goes on; an operator's shows its events", async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const broken = (
      await system.api
        .post('/api/missions')
        .send({ ...pricing('State changed by hand'), notBefore: later })
        .expect(201)
    ).body as { id: string };
    const key = system.keys.mission(broken.id);
    const kept = await system.redis.hgetall(key);
    await system.redis.hset(key, 's', 'not json');
    try {
      const client = { Authorization: `Bearer ${TEST_KEYS.client}` };
      const clientStream = await opened('?from=start', client);
      const operatorStream = await opened(`?from=start&missionId=${broken.id}`, { Authorization: `Bearer ${TEST_KEYS.operator}` });
      const own = (await request(system.intake.getHttpServer()).post('/api/missions').set(client).send(pricing("The client key's own")).expect(201)).body as {
        id: string;
      };

      await until("the client's own mission on its stream", () => eventsOf(clientStream, own.id).length > 0);
      expect(eventsOf(clientStream, broken.id)).toEqual([]);
      await until('the mission on the operator stream', () => eventsOf(operatorStream, broken.id).length > 0);
      expect(eventsOf(operatorStream, broken.id)[0]).toMatchObject({ type: 'MissionCreated' });
    } finally {
      await system.redis.hset(key, kept);
    }
  });

  // The intake remembered every such mission for good (an unbounded set, nothing forgotten): one mended
  // and then changed again was passed over without a word.
  it("given a client key's mission passed over, mended and shown, when its state breaks again, then the intake names it again", async () => {
    const client = { Authorization: `Bearer ${TEST_KEYS.client}` };
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const flaky = (
      await request(system.intake.getHttpServer())
        .post('/api/missions')
        .set(client)
        .send({ ...pricing('State changed by hand, twice'), notBefore: later })
        .expect(201)
    ).body as { id: string };
    const key = system.keys.mission(flaky.id);
    const stored = (await system.redis.hget(key, 's')) ?? '';
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const named = () => warn.mock.calls.filter(([message]) => String(message).startsWith(`a client key's live stream passes over mission ${flaky.id}:`)).length;
    try {
      await system.redis.hset(key, 's', 'not json');
      const first = await opened('?from=start', client);
      await until('the mission named once', () => named() === 1);
      first.stop();
      await system.redis.hset(key, 's', stored);
      const mended = await opened('?from=start', client);
      await until('the mended mission on the stream', () => eventsOf(mended, flaky.id).length > 0);
      mended.stop();

      await system.redis.hset(key, 's', 'not json');
      await opened('?from=start', client);

      await until('the mission named again', () => named() === 2);
    } finally {
      warn.mockRestore();
      await system.redis.hset(key, 's', stored);
    }
  });

  it('given filters by type, status and mission, then only matching events come', async () => {
    const byType = await opened('?type=MissionCreated,MissionEvaluated');
    const byStatus = await opened('?status=succeeded');
    const created = await system.api.post('/api/missions').send(pricing('Filtered')).expect(201);
    const byMission = await opened(`?missionId=${created.body.id}&type=MissionEvaluated`);
    await system.waitForStatus(created.body.id, ['succeeded']);
    await until('the succeeded event on the status stream', () => eventsOf(byStatus, created.body.id).length === 1);
    await until('the evaluation on the mission stream', () => byMission.messages.length === 1);
    await until('creation and evaluation on the type stream', () => eventsOf(byType, created.body.id).length === 2);
    expect(eventsOf(byType, created.body.id).map((event) => event.type)).toEqual(['MissionCreated', 'MissionEvaluated']);
    expect(byStatus.events().every((event) => event.type === 'MissionEvaluated' && 'passed' in event.data && event.data.passed)).toBe(true);
    expect(byMission.events()).toEqual([expect.objectContaining({ missionId: created.body.id, type: 'MissionEvaluated' })]);
  });

  it('given no key, a wrong key, bad filters or a position of another LOG_PARTITIONS, then a 4xx error body and no stream', async () => {
    const server = system.intake.getHttpServer();
    await request(server).get('/api/stream').expect(401);
    await request(server).get('/api/stream').set('Authorization', 'Bearer not-a-key-000000000000').expect(401);
    const reader = { Authorization: `Bearer ${TEST_KEYS.reader}` };
    for (const query of [
      'type=MissionExploded',
      'status=lost',
      'missionId=nope',
      'type=',
      `lastEventId=${'1-0.'.repeat(PARTITIONS + 1)}1-0`,
      'lastEventId=x-y',
      'since=now',
    ]) {
      const response = await request(server).get(`/api/stream?${query}`).set(reader);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
      expect(response.body).toMatchObject({ statusCode: 400, message: expect.any(String) });
    }
    const head = await request(server).head('/api/stream').set(reader).expect(200);
    expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
    const otherLayout = await request(server)
      .get('/api/stream')
      .set({ ...reader, 'Last-Event-ID': '1-0' })
      .expect(400);
    expect(otherLayout.body.message).toMatch(/LOG_PARTITIONS=3/);
    // An empty Last-Event-ID header is none: it hid the query's position, which went unchecked, and the stream began at "now".
    const hidden = await request(server)
      .get('/api/stream?lastEventId=x-y')
      .set({ ...reader, 'Last-Event-ID': '' })
      .expect(400);
    expect(hidden.body.message).toEqual(expect.any(String));
  });

  it('given a position past the end of the log in any partition, then a 400 before the stream opens; the head itself resumes', async () => {
    const server = system.intake.getHttpServer();
    const reader = { Authorization: `Bearer ${TEST_KEYS.reader}` };
    const head = await system.intake.get(EventStreamService).now();
    const future = '99999999999999-0';
    for (const position of [Array(PARTITIONS).fill(future), head.map((id, i) => (i === PARTITIONS - 1 ? future : id))]) {
      const response = await request(server)
        .get('/api/stream')
        .set({ ...reader, 'Last-Event-ID': position.join('.') })
        .expect(400);
      expect(response.body.message).toMatch(/^Last-Event-ID is past the end of the log \(partition \d+ ends at \d+-\d+\)/);
      await request(server)
        .get(`/api/stream?lastEventId=${position.join('.')}`)
        .set(reader)
        .expect(400);
    }
    expect(system.intake.get(EventStreamService).clientCount).toBe(0);

    let connected: string | undefined;
    const abort = new AbortController();
    const done = followStream(
      `${base}/api/stream`,
      { ...reader, 'Last-Event-ID': head.join('.') },
      () => undefined,
      abort.signal,
      (at) => (connected = at),
    );
    await until('the stream at the head to open', () => connected !== undefined);
    expect(connected).toBe(head.join('.'));
    abort.abort();
    await done;
  });

  it('given a stream token, then EventSource-style ?token= opens the stream; expired, forged or misused tokens are 401', async () => {
    const issued = await request(system.intake.getHttpServer()).post('/api/stream/tokens').set('X-API-Key', TEST_KEYS.reader).expect(201);
    expect(issued.body).toEqual({ token: expect.stringMatching(/^v1\./), expiresAt: expect.any(String) });
    expect(Date.parse(issued.body.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    const viaToken = await opened(`?token=${encodeURIComponent(issued.body.token)}`, {});
    const created = await system.api.post('/api/missions').send(pricing('Token')).expect(201);
    await until('the creation on the token stream', () => eventsOf(viaToken, created.body.id).length > 0);

    const server = system.intake.getHttpServer();
    const [version, payload, mac] = (issued.body.token as string).split('.');
    const expired = Buffer.from(JSON.stringify({ n: 'reader', e: Date.now() - 1 })).toString('base64url');
    for (const token of [`${version}.${expired}.${mac}`, `${version}.${payload}.${mac.slice(1)}x`, 'v1.e30.AAAA', 'nope']) {
      const response = await request(server)
        .get(`/api/stream?token=${encodeURIComponent(token)}`)
        .expect(401);
      expect(response.body.message).toMatch(/stream token/);
    }
    await request(server)
      .get(`/api/missions?token=${encodeURIComponent(issued.body.token)}`)
      .expect(401);
    // HEAD of the stream, which the route answers as a GET without the body, with the same token: it was a 401.
    await request(server)
      .head(`/api/stream?token=${encodeURIComponent(issued.body.token)}`)
      .expect(200);
    await request(server).post('/api/stream/tokens').expect(401);
  });

  it('given a quiet log, then pings keep coming, as events an EventSource shows, each with the interval', async () => {
    const response = await fetch(`${base}/api/stream?missionId=00000000-0000-4000-8000-000000000000`, {
      headers: { Authorization: `Bearer ${TEST_KEYS.reader}` },
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    // One with the connected message, two after an interval each.
    while ((text.match(/\n\n/g) ?? []).length < 4) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    // They were comment lines (`: heartbeat`), which EventSource hides: a stalled stream looked like a quiet log.
    expect(text).toMatch(/^retry: \d+\nevent: connected\nid: [^\n]+\ndata: [^\n]+\n\n(event: ping\ndata: 300\n\n){3}$/);
  });

  it(`given ${MAX_CLIENTS} open streams, then one more is a 429 with Retry-After`, async () => {
    for (let i = 0; i < MAX_CLIENTS; i += 1) await opened('', spreadKey(i));
    const refused = await fetch(`${base}/api/stream`, { headers: { Authorization: `Bearer ${TEST_KEYS.submitter}` } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ statusCode: 429, message: 'too many open live streams on this intake; retry later' });
    // The follower the CLI uses reports the refusal with its status.
    const error = await follow().done.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StreamRefusedError);
    expect((error as StreamRefusedError).status).toBe(429);
  });

  it(`given ${MAX_CLIENTS_PER_KEY} open streams of one key, then one more of that key is a 429, another key's still opens, and a closed one frees its key's slot`, async () => {
    const stream = system.intake.get(EventStreamService);
    const reader = { Authorization: `Bearer ${TEST_KEYS.reader}` };
    const readers = [];
    for (let i = 0; i < MAX_CLIENTS_PER_KEY; i += 1) readers.push(await opened('', reader));
    // One key could hold every slot of SSE_MAX_CLIENTS, and every other client got 429s.
    const refused = await fetch(`${base}/api/stream`, { headers: reader });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({
      statusCode: 429,
      message: 'too many open live streams of this API key on this intake; close one or retry later',
    });
    await opened('', { Authorization: `Bearer ${TEST_KEYS.operator}` });

    const before = stream.clientCount;
    readers[0].stop();
    await until('the stopped stream to close', () => stream.clientCount < before);
    await opened('', reader);
  });

  it('given two streams asked for at once with one slot left, then one opens and the other is a 429', async () => {
    const stream = system.intake.get(EventStreamService);
    for (let i = 0; i < MAX_CLIENTS - 1; i += 1) await opened('', spreadKey(i));
    // Both requests read the position before either opens: the position is handed out once both asked.
    const now = stream.now.bind(stream);
    let asked = 0;
    let release: () => void = () => undefined;
    const bothAsked = new Promise<void>((resolve) => (release = resolve));
    const spy = jest.spyOn(stream, 'now').mockImplementation(async () => {
      if (++asked === 2) release();
      await bothAsked;
      return now();
    });
    try {
      const submitter = { Authorization: `Bearer ${TEST_KEYS.submitter}` };
      const streams = [follow('', submitter), follow('', submitter)];
      const refused = await Promise.race(streams.map((follower) => follower.done.catch((error: unknown) => error)));
      // Both used to pass the check before the read, and both opened: SSE_MAX_CLIENTS + 1 streams.
      expect(refused).toBeInstanceOf(StreamRefusedError);
      expect((refused as StreamRefusedError).status).toBe(429);
      expect(stream.clientCount).toBe(MAX_CLIENTS);
    } finally {
      spy.mockRestore();
    }
  });

  it('given a client that stops reading, then it is dropped after SSE_SLOW_CLIENT_MS and nothing is kept for it', async () => {
    const stream = system.intake.get(EventStreamService);
    // A response whose socket never drains: every write reports a full buffer.
    const written: string[] = [];
    const fake = Object.assign(new EventEmitter(), {
      writableNeedDrain: true,
      socket: null,
      status: () => fake,
      setHeader: () => fake,
      flushHeaders: () => undefined,
      write: (chunk: string) => written.push(chunk) < 0,
      end: () => fake.emit('close'),
      destroy: () => fake.emit('close'),
    });
    const destroyed = new Promise((resolve) => fake.once('close', resolve));
    stream.open(fake as unknown as Response, { name: 'reader', role: 'reader' }, Array(PARTITIONS).fill('0-0'), {});
    expect(stream.clientCount).toBe(1);
    await destroyed;
    expect(stream.clientCount).toBe(0);
    // One batch was written and never more: the rest of the log was not read for it.
    expect(written.filter((chunk) => chunk.startsWith('id:'))).toHaveLength(1);
  });

  it('given a client gone while its position was read, then no stream is opened for it and no slot is held', async () => {
    const stream = system.intake.get(EventStreamService);
    const before = stream.clientCount;
    // A real Express response whose client went away before open() was called, as when the socket
    // closes during the read of the position: its 'close' has been emitted already.
    const app = express();
    const openedAfterClose = new Promise<void>((resolve) =>
      app.get('/', (req, res) => {
        res.once('close', () => {
          stream.open(res, { name: 'reader', role: 'reader' }, stream.start, {});
          resolve();
        });
        req.socket.destroy();
      }),
    );
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`).catch(() => undefined);
      await openedAfterClose;
      // It used to be added with its heartbeat and reads, and never removed: SSE_MAX_CLIENTS such
      // requests and every stream was a 429 until the intake restarted.
      expect(stream.clientCount).toBe(before);
    } finally {
      server.close();
    }
  });
});
