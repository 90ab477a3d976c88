import request from 'supertest';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

/** One minute in the per-minute counts (minutes since the epoch), as ReadyQueue writes them. */
const minuteOf = (ms: number) => Math.floor(ms / 60_000);

describe('the routes the console reads: /api/me, a mission hash chain, queue throughput (in-process system)', () => {
  let system: InProcessSystem;
  beforeAll(async () => {
    system = await startInProcessSystem('e2e-console-api');
  });
  afterAll(async () => system.close());

  /** A pricing mission titled `title`, once it has succeeded. */
  const succeededMission = async (title: string) => {
    const created = await system.api.post('/api/missions').send({ type: 'pricing', title, description: 'Compare.', priority: 'low', payload: {} }).expect(201);
    return system.waitForStatus(created.body.id, ['succeeded']);
  };

  it.each(Object.entries(TEST_KEYS).filter(([role]) => role !== 'client'))('given the %s key, then /api/me names it and its role', async (role, secret) => {
    const response = await request(system.intake.getHttpServer()).get('/api/me').set('X-API-Key', secret).expect(200);
    expect(response.body).toEqual({ name: role, role });
  });

  it('given a client key, then /api/me is a 403: a client calls only its own missions’ routes, and the console is not for it', async () => {
    const response = await request(system.intake.getHttpServer()).get('/api/me').set('X-API-Key', TEST_KEYS.client).expect(403);
    expect(response.body.message).toBe('API key "client" has role client; this needs reader');
  });

  it('given a mission, then its hash chain verifies; given one of its stored events edited, then it does not, naming the event', async () => {
    const mission = await succeededMission('Chain');
    const intact = await system.api.get(`/api/missions/${mission.id}/verify`).expect(200);
    expect(intact.body).toEqual({ missionId: mission.id, verified: true, events: mission.version, problems: [] });

    // Event 2 edited (another actor): a copy at the end of the log takes its place in the mission's list.
    const partition = system.keys.of(mission.id);
    const [, second] = await system.redis.lrange(partition.missionEvents(mission.id), 0, 1);
    const [[, fields]] = (await system.redis.xrange(partition.log, second, second)) as [string, string[]][];
    const edited = fields.map((value, i) => (fields[i - 1] === 'e' ? value.replace('"actor":"', '"actor":"x') : value));
    const copy = (await system.redis.xadd(partition.log, '*', ...edited)) as string;
    await system.redis.lset(partition.missionEvents(mission.id), 1, copy);
    const broken = await system.api.get(`/api/missions/${mission.id}/verify`).expect(200);
    expect(broken.body).toMatchObject({ verified: false, problems: ['event 3 does not link to event 2: it was changed, or one before it was'] });

    // Event 2 as a forged copy in front of the stored one: readers take the first e, the hash the last.
    const doubled = (await system.redis.xadd(partition.log, '*', ...edited, ...fields)) as string;
    await system.redis.lset(partition.missionEvents(mission.id), 1, doubled);
    const forged = await system.api.get(`/api/missions/${mission.id}/verify`).expect(200);
    expect(forged.body.problems).toContain('event 2: the log entry has the fields m, e, m, e, not m and e (each once, in that order)');

    // A copy of a create whose title holds U+FFFD, with those bytes as one byte that is no UTF-8: it decodes to the same text.
    const replaced = await system.api
      .post('/api/missions')
      .send({ type: 'pricing', title: 'Chain \uFFFD', description: 'Compare.', priority: 'low', payload: {} })
      .expect(201);
    const replacedPartition = system.keys.of(replaced.body.id);
    const [createdId] = await system.redis.lrange(replacedPartition.missionEvents(replaced.body.id), 0, 0);
    const [[, stored]] = (await system.redis.xrangeBuffer(replacedPartition.log, createdId, createdId)) as [Buffer, Buffer[]][];
    const at = stored[3].indexOf(Buffer.from([0xef, 0xbf, 0xbd]));
    const bytes = Buffer.concat([stored[3].subarray(0, at), Buffer.from([0xff]), stored[3].subarray(at + 3)]);
    const forgedId = (await system.redis.xadd(replacedPartition.log, '*', stored[0], stored[1], stored[2], bytes)) as string;
    await system.redis.lset(replacedPartition.missionEvents(replaced.body.id), 0, forgedId);
    // It said verified: the decoded text hashed as the stored one did.
    const notUtf8 = await system.api.get(`/api/missions/${replaced.body.id}/verify`).expect(200);
    expect(notUtf8.body).toMatchObject({ verified: false, problems: expect.arrayContaining(['event 1: the stored event is not valid UTF-8']) });

    // The head removed where it is stored: it said verified, where replay verify names it.
    await system.redis.hdel(partition.mission(mission.id), 'h');
    const headless = await system.api.get(`/api/missions/${mission.id}/verify`).expect(200);
    expect(headless.body.problems).toContain('the mission has no head (the hash of its last event): it was removed where it is stored');

    // Its list of events deleted where it is stored: it said "not found" of a mission GET /api/missions/:id still answers.
    await system.redis.del(partition.missionEvents(mission.id));
    const listless = await system.api.get(`/api/missions/${mission.id}/verify`).expect(200);
    expect(listless.body).toEqual({
      missionId: mission.id,
      verified: false,
      events: 0,
      problems: [`the mission's list of events is gone: it names none, the mission is at version ${mission.version}`],
    });

    await system.api.get('/api/missions/00000000-0000-4000-8000-000000000000/verify').expect(404);
    await system.api.get('/api/missions/nope/verify').expect(400);
  });

  // It answered verified: true over a forged title (the console's green badge): it checked the chain, not what is shown from it.
  it("given a mission's stored state forged beside its intact chain, then its verify answers not verified, naming what differs from the fold", async () => {
    const mission = await succeededMission('Shown');
    const hash = system.keys.mission(mission.id);
    const stored = (await system.redis.hget(hash, 's')) ?? '';
    await system.redis.hset(hash, 's', JSON.stringify({ ...JSON.parse(stored), title: 'Forged' }));

    expect((await system.api.get(`/api/missions/${mission.id}`).expect(200)).body.title).toBe('Forged');
    const forged = await system.api.get(`/api/missions/${mission.id}/verify`).expect(200);
    expect(forged.body).toEqual({
      missionId: mission.id,
      verified: false,
      events: mission.version,
      problems: ['the mission as shown is not the fold of its events: s differs from the replayed state in title'],
    });

    await system.redis.hset(hash, 's', stored);
    expect((await system.api.get(`/api/missions/${mission.id}/verify`).expect(200)).body).toMatchObject({ verified: true, problems: [] });
  });

  it('given missions queued this minute and the last, then throughput counts them per minute, oldest first', async () => {
    const now = Date.now();
    const previous = minuteOf(now) - 1;
    await system.redis.hincrby(system.keys.partitions[0].perMinute, `e:${previous}`, 7);
    await system.redis.hincrby(system.keys.partitions[0].perMinute, `d:${previous}`, 5);
    const response = await system.api.get('/api/missions/queue/throughput?minutes=3').expect(200);
    expect(response.body).toHaveLength(3);
    expect(response.body[2]).toMatchObject({ minute: new Date(previous * 60_000).toISOString() });
    expect(response.body[2].enqueued).toBeGreaterThanOrEqual(7);
    expect(response.body[2].dequeued).toBeGreaterThanOrEqual(5);
    expect(Date.parse(response.body[0].minute)).toBeLessThan(Date.parse(response.body[1].minute));
    for (const minutes of ['0', '61', '1.5', 'x']) await system.api.get(`/api/missions/queue/throughput?minutes=${minutes}`).expect(400);
    expect((await system.api.get('/api/missions/queue/throughput').expect(200)).body).toHaveLength(15);
  });
});
