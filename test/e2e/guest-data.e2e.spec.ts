import { Mission, MissionEvent } from '@app/mission';
import { escapeGlob, RedisConnection, scanKeys } from '@app/redis';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

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

/** Every value of every key under the prefix, whatever its type, as one text. */
async function dumpPrefix(redis: RedisConnection, prefix: string): Promise<string> {
  const parts: string[] = [];
  for await (const keys of scanKeys(redis, `${escapeGlob(prefix)}*`)) {
    for (const key of keys) {
      const type = await redis.type(key);
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
    expect(stored?.payload.message).toMatch(/^enc:v1:/);
    expect(stored?.result?.output.reply).toMatch(/^enc:v1:/);
    const dump = await dumpPrefix(system.redis, system.prefix);
    // The dump sees what is not personal: the id and the title, in plain.
    expect(dump).toContain(support.body.id);
    expect(dump).toContain(guestRequest.title);
    for (const needle of NEEDLES) expect({ needle, found: dump.includes(needle) }).toEqual({ needle, found: false });
    expect(dump).not.toContain(fetched.result?.output.reply as string);
  });
});
