import { redisUrl } from '@app/testing';
import { aCreateInput } from '../../libs/mission/src/testing/envelope';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';
import { ReplyDroppingProxy } from '../support/reply-dropping-proxy';

const leakingTap = aCreateInput({ type: 'maintenance', title: 'Leaking tap in room 118', payload: { room: '118', issue: 'leaking tap' } });

describe('a lost reply to the executor start (four services, real Redis)', () => {
  const target = new URL(redisUrl());
  const proxy = new ReplyDroppingProxy(
    { host: target.hostname, port: Number(target.port || 6379) },
    (sent) => (sent.includes('"type":"MissionStarted"') ? 'MissionStarted' : null),
  );
  let system: InProcessSystem;

  beforeAll(async () => {
    await proxy.start();
    system = await startInProcessSystem('e2e-lost-reply', {}, { executor: { REDIS_URL: proxy.url } });
  });

  afterAll(async () => {
    await system?.close();
    await proxy.stop();
  });

  test('given Redis wrote MissionStarted but the executor never heard so, when ioredis resends the append, then the executor knows its own start and the mission finishes in one attempt', async () => {
    const created = await system.api.post('/api/missions').send(leakingTap).expect(201);
    const missionId = created.body.id as string;

    const finished = await system.waitForStatus(missionId, ['succeeded', 'dead_lettered']);

    expect(proxy.trips.map((trip) => trip.label)).toEqual(['MissionStarted']);
    expect(finished.status).toBe('succeeded');
    expect(finished.attempts).toBe(1);
    const types = (await system.store.history(missionId)).map((event) => event.type);
    expect(types.filter((type) => type === 'MissionStarted')).toHaveLength(1);
    expect(types.filter((type) => type === 'MissionCompleted')).toHaveLength(1);
    expect(types).not.toContain('MissionFailed');
  });
});
