import { createHash } from 'node:crypto';
import { decideAssign, decideCreate, Mission } from '@app/mission';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { AppendCode } from './append-result';
import { storedEventLine } from './event-envelopes';
import { KeyLayout } from './key-layout';
import { MissionStore } from './mission-store';

const sha1 = (text: string): string => createHash('sha1').update(text, 'utf8').digest('hex');

describe('storedEventLine', () => {
  const redis = testRedisConnection('event-envelopes-spec');
  const keys = new KeyLayout(testKeyPrefix('event-envelopes'));
  afterAll(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
    await redis.quit();
  });

  it('given events appended through append-mission-events.lua, then each stored line is byte for byte storedEventLine of its envelope', async () => {
    const store = new MissionStore(redis, keys);
    const now = new Date('2025-06-01T08:00:00.000Z');
    const input = {
      type: 'guest_support',
      title: 'Spät auschecken ✓',
      description: 'Zimmer 204, "14:00"\nbitte',
      priority: 'normal',
      payload: { room: '204' },
    } as const;
    const created = await store.append('m-a', null, decideCreate(input, now), { actor: 'intake', now });
    const other = await store.append('m-b', null, decideCreate(input, now), { actor: 'intake', now });
    if (created.code !== AppendCode.Ok || other.code !== AppendCode.Ok) throw new Error('create failed');
    const assign = decideAssign(created.mission as Mission, 'agent-lena');
    if (assign.kind !== 'append') throw new Error(assign.reason);
    const assigned = await store.append('m-a', created.mission, assign.events, { actor: 'orchestrator', now });
    if (assigned.code !== AppendCode.Ok) throw new Error('assign failed');

    // In log order: m-a v1 v2, m-b v1 v2, m-a v3; each chained to its mission's and the log's previous line.
    const appended = [...created.events, ...other.events, ...assigned.events];
    const expected: string[] = [];
    const missionHash = new Map<string, string>();
    let logHash = '';
    for (const envelope of appended) {
      const line = storedEventLine(envelope, missionHash.get(envelope.missionId) ?? '', logHash);
      expected.push(line);
      logHash = sha1(line);
      missionHash.set(envelope.missionId, logHash);
    }
    const stored = (await redis.xrange(keys.partitions[0].log, '-', '+')).map(([, fields]) => fields[fields.indexOf('e') + 1]);

    expect(stored).toEqual(expected);
    expect(await redis.get(keys.partitions[0].logHead)).toBe(logHash);
  });
});
