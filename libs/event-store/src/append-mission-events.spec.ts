import { join } from 'node:path';
import { LuaScript, luaEnum } from '@app/redis';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { AppendCode } from './append-result';
import { KeyLayout } from './key-layout';
import { MISSION_HASH_FIELDS } from './mission-hash-fields';
import { missionLuaOptions } from './mission-lua';

/** The script's effect list as MissionStore never writes it: unknown names, arguments it does not read. */
describe('append-mission-events.lua effects', () => {
  const redis = testRedisConnection('append-mission-events-spec');
  const script = new LuaScript(join(__dirname, 'lua'), 'append-mission-events', missionLuaOptions({ CODE: luaEnum(AppendCode) }));
  let keys: KeyLayout;

  beforeEach(() => {
    keys = new KeyLayout(testKeyPrefix('append-lua'));
  });
  afterEach(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  const append = (effects: (string | number)[], extraKeys: string[] = []) => {
    const k = keys.partitions[0];
    const scriptKeys = [k.mission('m1'), k.missionEvents('m1'), k.log, k.statusCounts, k.missionIndex, k.logHead, ...extraKeys];
    const event = JSON.stringify({ type: 'MissionCreated', missionId: 'm1', version: 1 });
    return script.run(redis, scriptKeys, ['m1', 0, 'queued', '{"id":"m1"}', 1_000, 1, event, ...effects]);
  };

  it('steps over each effect by the argument count it carries, so arguments a handler does not read are skipped', async () => {
    const k = keys.partitions[0];
    // zadd reads two arguments; the third and fourth must not be taken for the next effect's name.
    const result = await append(['zadd', 4, 7, 5, 'hincrby', 'x', 'hincrby', 3, 8, 'n', 2], [k.deadLetters, k.counters]);

    expect(result).toEqual([AppendCode.Ok, '1']);
    expect(await redis.zscore(k.deadLetters, 'm1')).toBe('5');
    expect(await redis.hgetall(k.counters)).toEqual({ n: '2' });
  });

  it('refuses an unknown effect before anything is written', async () => {
    await expect(append(['teleport', 0])).rejects.toThrow('unknown effect teleport');

    expect(await redis.hget(keys.mission('m1'), MISSION_HASH_FIELDS.version)).toBeNull();
    expect(await redis.xlen(keys.partitions[0].log)).toBe(0);
  });

  it("writes the trace effect's context into every message the effects after it write, and keeps its traceparent with the mission", async () => {
    const k = keys.partitions[0];
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await append(
      ['trace', 2, traceparent, 'vendor=1', 'xadd', 3, 7, 'mission.assigned', '{"a":1}', 'xadd-mission', 2, 7, 'mission.completed'],
      [k.stream('executor')],
    );

    const messages = (await redis.xrange(k.stream('executor'), '-', '+')).map(([, fields]) => fields);
    expect(messages).toEqual([
      ['pattern', 'mission.assigned', 'data', '{"a":1}', 'traceparent', traceparent, 'tracestate', 'vendor=1'],
      ['pattern', 'mission.completed', 'data', '{"mission":{"id":"m1"}}', 'traceparent', traceparent, 'tracestate', 'vendor=1'],
    ]);
    expect(await redis.hget(k.mission('m1'), MISSION_HASH_FIELDS.traceParent)).toBe(traceparent);
  });

  it('writes messages with pattern and data only when the append is not traced', async () => {
    const k = keys.partitions[0];
    await append(['xadd', 3, 7, 'mission.assigned', '{}'], [k.stream('executor')]);

    expect((await redis.xrange(k.stream('executor'), '-', '+')).map(([, fields]) => fields)).toEqual([['pattern', 'mission.assigned', 'data', '{}']]);
    expect(await redis.hget(k.mission('m1'), MISSION_HASH_FIELDS.traceParent)).toBeNull();
  });

  it('given a sadd effect, then the mission id joins the set (the subject index written with the create)', async () => {
    const k = keys.partitions[0];
    const result = await append(['sadd', 1, 7], [k.subjectMissions('guest:anna')]);
    expect(result).toEqual([AppendCode.Ok, '1']);
    expect(await redis.smembers(k.subjectMissions('guest:anna'))).toEqual(['m1']);
  });
});
