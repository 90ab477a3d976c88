import { AddressInfo } from 'node:net';
import request from 'supertest';
import { Mission, MissionEvent, REDACTED_MARKER } from '@app/mission';
import { waitFor } from '@app/testing';
import { followStream, StreamMessage } from '../../scripts/ctl/follow-stream';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

const GUEST = { id: 'g-roles', name: 'Clara Reader-Test', email: 'clara.rt@example.com', phone: '+49 89 5550199' };
const MESSAGE = 'Mein Fenster in Zimmer 512 klemmt und lässt sich nicht schließen';
/** What a reader key must never get, in any response or stream message. */
const NEEDLES = [GUEST.name, GUEST.email, GUEST.phone, MESSAGE, 'Fenster in Zimmer 512'];

const guestRequest = {
  type: 'guest_support',
  title: 'Window stuck, room 512',
  description: `Guest writes: ${MESSAGE}`,
  priority: 'normal',
  payload: { language: 'de', room: '512', guest: GUEST, message: MESSAGE },
};

const holdsNoNeedle = (text: string) => NEEDLES.map((needle) => ({ needle, found: text.includes(needle) }));
const noneFound = NEEDLES.map((needle) => ({ needle, found: false }));

describe('guest data by role: a reader key sees it redacted, a submitter key in plain (four services, real Redis)', () => {
  let system: InProcessSystem;
  let base: string;
  let mission: Mission;

  beforeAll(async () => {
    system = await startInProcessSystem('e2e-guest-data-roles');
    await system.intake.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(system.intake.getHttpServer().address() as AddressInfo).port}`;
    const created = await system.api.post('/api/missions').send(guestRequest).expect(201);
    mission = await system.waitForStatus(created.body.id, ['succeeded']);
  });
  afterAll(async () => system.close());

  const as = (role: keyof typeof TEST_KEYS) => ({
    get: (path: string) => request(system.intake.getHttpServer()).get(path).set('Authorization', `Bearer ${TEST_KEYS[role]}`).expect(200),
  });

  /** The stream from the start of the log for the mission, until its result has come. */
  async function streamed(headers: Record<string, string>, query = ''): Promise<MissionEvent[]> {
    const abort = new AbortController();
    const messages: StreamMessage[] = [];
    const done = followStream(`${base}/api/stream?from=start&missionId=${mission.id}${query}`, headers, (message) => messages.push(message), abort.signal);
    try {
      return await waitFor(
        async () => {
          const events = messages.map((message) => JSON.parse(message.data) as MissionEvent);
          return events.some((event) => event.type === 'MissionCompleted') ? events : null;
        },
        { timeoutMs: 10_000, what: 'the mission result on the stream' },
      );
    } finally {
      abort.abort();
      await done;
    }
  }

  it('given a reader key, then GET mission, its events, the list and the live stream hold no guest data, only [redacted]', async () => {
    const reader = as('reader');
    const fetched = (await reader.get(`/api/missions/${mission.id}`)).body as Mission;
    expect(fetched).toMatchObject({
      title: guestRequest.title,
      description: REDACTED_MARKER,
      payload: { room: '512', guest: { id: GUEST.id, name: REDACTED_MARKER, email: REDACTED_MARKER, phone: REDACTED_MARKER }, message: REDACTED_MARKER },
      result: { output: { reply: REDACTED_MARKER, actions: REDACTED_MARKER } },
    });
    const events = (await reader.get(`/api/missions/${mission.id}/events`)).body as MissionEvent[];
    expect(events[0]).toMatchObject({ type: 'MissionCreated', data: { payload: { message: REDACTED_MARKER } } });
    expect(events.find((event) => event.type === 'MissionCompleted')).toMatchObject({ data: { result: { output: { reply: REDACTED_MARKER } } } });
    const listed = (await reader.get('/api/missions?type=guest_support')).body as { items: Mission[] };
    expect(listed.items.find((item) => item.id === mission.id)).toMatchObject({ payload: { message: REDACTED_MARKER } });
    const onStream = await streamed({ Authorization: `Bearer ${TEST_KEYS.reader}` });
    expect(onStream[0]).toMatchObject({ type: 'MissionCreated', data: { description: REDACTED_MARKER } });

    const token = (await request(system.intake.getHttpServer()).post('/api/stream/tokens').set('X-API-Key', TEST_KEYS.reader).expect(201)).body.token as string;
    const viaToken = await streamed({}, `&token=${encodeURIComponent(token)}`);

    for (const body of [fetched, events, listed, onStream, viaToken]) expect(holdsNoNeedle(JSON.stringify(body))).toEqual(noneFound);
    expect(JSON.stringify(viaToken)).not.toContain(String(mission.result?.output.reply));
  });

  it('given a submitter key, then the same routes and the live stream hold the guest data in plain', async () => {
    const submitter = as('submitter');
    const fetched = (await submitter.get(`/api/missions/${mission.id}`)).body as Mission;
    expect(fetched).toMatchObject({ description: guestRequest.description, payload: { guest: GUEST, message: MESSAGE } });
    expect(fetched.result?.output.reply).toEqual(expect.any(String));
    expect(fetched.result?.output.reply).not.toMatch(/^enc:|^\[redacted\]$/);
    const events = (await submitter.get(`/api/missions/${mission.id}/events`)).body as MissionEvent[];
    expect(events[0]).toMatchObject({ type: 'MissionCreated', data: { payload: { guest: GUEST, message: MESSAGE } } });
    const listed = (await submitter.get('/api/missions?type=guest_support')).body as { items: Mission[] };
    expect(listed.items.find((item) => item.id === mission.id)).toMatchObject({ payload: { message: MESSAGE } });
    const onStream = await streamed({ Authorization: `Bearer ${TEST_KEYS.submitter}` });
    expect(onStream[0]).toMatchObject({ type: 'MissionCreated', data: { payload: { guest: GUEST, message: MESSAGE } } });
    const completed = onStream.find((event) => event.type === 'MissionCompleted');
    expect(completed?.type === 'MissionCompleted' && completed.data.result.output.reply).toBe(fetched.result?.output.reply);
  });
});
