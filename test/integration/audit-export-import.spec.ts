import { PassThrough, Readable, Writable } from 'node:stream';
import Redis from 'ioredis';
import { exportLog, ExportFilter, importLog, ImportTargetNotEmptyError, verifyLog } from '@app/audit';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, redisUrl, testKeyPrefix, buildKnownLog, KNOWN_EVENT_COUNT, KNOWN_MISSIONS, KNOWN_VERSIONS, knownStepTime } from '@app/testing';

/** A sink that keeps what it is given. */
function collector(): { sink: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function exportText(redis: Redis, keys: KeyLayout, filter: ExportFilter = {}): Promise<string> {
  const { sink, text } = collector();
  await exportLog(redis, keys, sink, filter);
  return text();
}

describe('export and import (real Redis)', () => {
  const redis = new Redis(redisUrl());
  const prefixes: string[] = [];
  const freshKeys = (name: string): KeyLayout => {
    const prefix = testKeyPrefix(`audit-io-${name}`);
    prefixes.push(prefix);
    return new KeyLayout(prefix);
  };
  let source: KeyLayout;

  beforeAll(async () => {
    source = freshKeys('source');
    await buildKnownLog(redis, source);
  });

  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('exports every event in log order, each line the stored JSON exactly', async () => {
    const lines = (await exportText(redis, source)).split('\n');
    expect(lines.pop()).toBe('');
    const stored = ((await redis.xrange(source.partitions[0].log, '-', '+')) as [string, string[]][]).map(([, fields]) => fields[3]);
    expect(lines).toEqual(stored);
    expect(lines).toHaveLength(KNOWN_EVENT_COUNT);
  });

  it('given an export, when imported into a fresh prefix, then every mission has the same s, v and st, and verify passes there', async () => {
    const copy = freshKeys('copy');
    const result = await importLog(redis, copy, Readable.from([await exportText(redis, source)]));
    expect(result).toMatchObject({ events: KNOWN_EVENT_COUNT, missions: 5, unreplayable: [] });

    for (const missionId of Object.values(KNOWN_MISSIONS)) {
      const original = await redis.hmget(source.mission(missionId), 's', 'v', 'st', 'h');
      expect(await redis.hmget(copy.mission(missionId), 's', 'v', 'st', 'h')).toEqual(original);
      expect(original[1]).toBe(String(KNOWN_VERSIONS[missionId]));
      expect(await redis.llen(copy.missionEvents(missionId))).toBe(KNOWN_VERSIONS[missionId]);
    }
    expect(await redis.hgetall(copy.partitions[0].statusCounts)).toEqual({ succeeded: '2', dead_lettered: '1', cancelled: '1', queued: '1' });
    expect(await redis.get(copy.partitions[0].logHead)).toBe(await redis.get(source.partitions[0].logHead));
    expect(await redis.zrange(copy.partitions[0].missionIndex, 0, -1)).toEqual(await redis.zrange(source.partitions[0].missionIndex, 0, -1));
    expect(await verifyLog(redis, copy)).toMatchObject({ ok: true, findings: [], events: KNOWN_EVENT_COUNT });
    // And a second export of the copy is byte for byte the first.
    expect(await exportText(redis, copy)).toBe(await exportText(redis, source));
  });

  it('given a prefix that already has a log, then import refuses and writes nothing', async () => {
    const before = await redis.xlen(source.partitions[0].log);
    await expect(importLog(redis, source, Readable.from(['{"missionId":"x"}\n']))).rejects.toBeInstanceOf(ImportTargetNotEmptyError);
    expect(await redis.xlen(source.partitions[0].log)).toBe(before);
  });

  it('given a line that is not JSON, then import stops naming the line', async () => {
    const target = freshKeys('bad-line');
    await expect(importLog(redis, target, Readable.from(['\n', 'not json\n']))).rejects.toThrow(/line 2 is not a JSON object/);
  });

  it('filters by mission, type and time window', async () => {
    const parse = (text: string) =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { missionId: string; type: string; version: number; at: string });
    const mission = parse(await exportText(redis, source, { mission: KNOWN_MISSIONS.ok }));
    expect(mission.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
    const evaluations = parse(await exportText(redis, source, { type: 'MissionEvaluated' }));
    expect(evaluations.map((e) => `${e.missionId} v${e.version}`)).toEqual(['m-ok v6', 'm-dead v6', 'm-retry v10', 'm-retry v15']);
    // Steps 4 up to (not including) 6: m-ok v3 at step 4 and m-cancel v1, v2 at step 5.
    const window = parse(await exportText(redis, source, { from: knownStepTime(4), to: knownStepTime(6) }));
    expect(window.map((e) => `${e.missionId} v${e.version}`)).toEqual(['m-ok v3', 'm-cancel v1', 'm-cancel v2']);
  });

  it('honours backpressure: with a slow reader it waits for drain and still writes every line', async () => {
    const slow = new PassThrough({ highWaterMark: 64 });
    let drains = 0;
    slow.on('drain', () => drains++);
    const received: Buffer[] = [];
    const reading = (async () => {
      for await (const chunk of slow) {
        received.push(chunk as Buffer);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    const small = freshKeys('backpressure');
    // 300 copies of m-ok's first two events, under other mission ids: one export batch far larger than the buffer.
    const lines = (await exportText(redis, source)).split('\n').filter(Boolean).slice(0, 2);
    const many = Array.from({ length: 300 }, (_, i) => lines.map((line) => line.replace(/"missionId":"m-ok"/, `"missionId":"m-${i}"`)).join('\n')).join('\n');
    await importLog(redis, small, Readable.from([`${many}\n`]));
    const result = await exportLog(redis, small, slow);
    slow.end();
    await reading;
    expect(result.exported).toBe(600);
    expect(Buffer.concat(received).toString('utf8').split('\n').filter(Boolean)).toHaveLength(600);
    expect(drains).toBeGreaterThan(0);
  });
});
