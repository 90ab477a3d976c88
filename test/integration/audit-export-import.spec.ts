import { PassThrough, Readable, Writable } from 'node:stream';
import Redis from 'ioredis';
import {
  exportLog,
  ExportFilter,
  importLog,
  ImportRefusedError,
  ImportTargetNotEmptyError,
  parseExportEndLine,
  rebuildReadModels,
  sha1Hex,
  summarize,
  verifyLog,
} from '@app/audit';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { decideAssign, decideCancel, decideCreate, decideLateReply, decideStart, Mission } from '@app/mission';
import { countKeysByPrefix } from '@app/redis';
import { deleteKeysByPrefix, testKeyPrefix, buildKnownLog, KNOWN_EVENT_COUNT, KNOWN_MISSIONS, KNOWN_VERSIONS, knownStepTime, testRedis } from '@app/testing';
import { withEndLineCounted } from '../support/export-lines';

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
  const redis = testRedis();
  const prefixes: string[] = [];
  const freshKeys = (name: string, partitions = 1): KeyLayout => {
    const prefix = testKeyPrefix(`audit-io-${name}`);
    prefixes.push(prefix);
    return new KeyLayout(prefix, partitions);
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
    // Last, the end line: what the export wrote, and from how many partitions.
    const end = JSON.parse(lines.pop() ?? '') as unknown;
    const stored = ((await redis.xrange(source.partitions[0].log, '-', '+')) as [string, string[]][]).map(([, fields]) => fields[3]);
    // The head: the last line's hash, which no later line's links hold.
    expect(end).toEqual({ kind: 'export-end', events: KNOWN_EVENT_COUNT, subjectKeys: 0, partitions: 1, heads: [sha1Hex(stored[stored.length - 1])] });
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

  it('given a cancelled mission with a late billed reply (LateReplyBilled), then verify passes, an import reproduces it and a rebuild changes nothing', async () => {
    const keys = freshKeys('late-reply');
    const store = new MissionStore(redis, keys);
    const created = await store.append(
      'm-late',
      null,
      decideCreate({ type: 'pricing', title: 'Rate for the fair', description: '', priority: 'low', payload: {} }),
      {
        actor: 'test',
      },
    );
    if (created.code !== AppendCode.Ok) throw new Error('create failed');
    let mission: Mission = created.mission;
    const step = async (decide: (m: Mission) => ReturnType<typeof decideStart>) => {
      const outcome = await store.transition(mission, decide, { actor: 'test' });
      if (outcome.kind !== 'appended') throw new Error(`expected an append, got ${outcome.kind}`);
      mission = outcome.mission;
    };
    await step((m) => decideAssign(m, 'agent-a'));
    await step((m) => decideStart(m, 1, 'run-1'));
    await step((m) => decideCancel(m, 'fair called off'));
    await step((m) =>
      decideLateReply(m, { attempt: 1, agentId: 'agent-a', billed: { usage: { promptTokens: 800, completionTokens: 200 }, costUsd: 0.0014 }, runId: 'run-1' }),
    );
    const [late] = (await store.history('m-late')).slice(-1);
    expect(summarize(late)).toBe('late reply billed on agent-a (attempt 1 was over): 800+200 tokens, $0.0014');

    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
    const copy = freshKeys('late-reply-copy');
    await importLog(redis, copy, Readable.from([await exportText(redis, keys)]));
    const original = await redis.hmget(keys.mission('m-late'), 's', 'v', 'st', 'h');
    expect(await redis.hmget(copy.mission('m-late'), 's', 'v', 'st', 'h')).toEqual(original);
    expect(JSON.parse(original[0] ?? '{}')).toMatchObject({ status: 'cancelled', lateBilledRuns: ['run-1'] });
    expect(await verifyLog(redis, copy)).toMatchObject({ ok: true, findings: [] });
    expect(await rebuildReadModels(redis, copy)).toMatchObject({ unchanged: 1, switched: 0, restored: 0 });
  });

  it('given a prefix that already has a log, then import refuses and writes nothing', async () => {
    const before = await redis.xlen(source.partitions[0].log);
    await expect(importLog(redis, source, Readable.from(['{"missionId":"x"}\n']))).rejects.toBeInstanceOf(ImportTargetNotEmptyError);
    expect(await redis.xlen(source.partitions[0].log)).toBe(before);
  });

  describe('the end line', () => {
    const refused = async (name: string, text: string, partitions = 1) => {
      const target = freshKeys(name, partitions);
      const refusal = importLog(redis, target, Readable.from([text]));
      await expect(refusal).rejects.toBeInstanceOf(ImportRefusedError);
      expect(await countKeysByPrefix(redis, target.prefix)).toBe(0);
      return refusal.catch((error: Error) => error.message);
    };

    // Held by no later line's links, the last event was imported as edited, and verify passed in the new prefix.
    it("given an export whose last event line was edited, then import refuses it against the end line's head and writes nothing", async () => {
      const lines = (await exportText(redis, source)).trimEnd().split('\n');
      const last = lines.length - 2;
      const edited = lines.map((line, i) => (i === last ? line.replace('"actor":"', '"actor":"Z') : line));
      expect(await refused('last-edited', `${edited.join('\n')}\n`)).toBe(
        `refusing to import: line ${last + 1}, the last event of log partition 0, is not the head the export's end line records for it: ` +
          'the file is not the log as exported (its last event edited, removed or moved); nothing was written',
      );
    });

    it('given an export cut short after a whole line, then import refuses it and writes nothing', async () => {
      const lines = (await exportText(redis, source)).trimEnd().split('\n');
      // Every hash chain holds in such a prefix of the file: verify alone would pass it.
      expect(await refused('cut-short', `${lines.slice(0, 20).join('\n')}\n`)).toMatch(/ends \(line 20\) without its end line: the file was cut short/);
      expect(await refused('lost-middle', `${[...lines.slice(0, 10), ...lines.slice(11)].join('\n')}\n`)).toMatch(
        new RegExp(`counts ${KNOWN_EVENT_COUNT} events and 0 subject keys, the file holds ${KNOWN_EVENT_COUNT - 1} and 0: lines were lost or added`),
      );
    });

    it('given a line after the end line, then import refuses it and writes nothing', async () => {
      const text = await exportText(redis, source);
      expect(await refused('appended', `${text}${text.split('\n')[0]}\n`)).toMatch(new RegExp(`line ${KNOWN_EVENT_COUNT + 2} follows the export's end line`));
    });

    it('given an end line whose counts are no numbers, then import refuses it and writes nothing', async () => {
      const lines = (await exportText(redis, source)).trimEnd().split('\n').slice(0, -1);
      // It threw a plain error after every event was written, and left them there.
      expect(await refused('bad-end', `${[...lines, '{"kind":"export-end","events":"all","subjectKeys":0,"partitions":1}'].join('\n')}\n`)).toMatch(
        /is an export's end without events, subjectKeys \(whole numbers\) and partitions/,
      );
    });

    it('given an export of one partition, when imported with two, then import refuses it naming LOG_PARTITIONS', async () => {
      expect(await refused('partitions', await exportText(redis, source), 2)).toMatch(/read from 1 log partitions and this import writes 2 .*LOG_PARTITIONS=1/);
    });

    // The end line of a filtered export read as a whole one's: only the chain check, refusing it without saying why, told them apart.
    it('given a filtered export, then its end line names the filters it was made with, and a whole export names none', async () => {
      const endOf = async (filter: ExportFilter) => JSON.parse((await exportText(redis, source, filter)).trimEnd().split('\n').pop() ?? '') as unknown;
      expect(await endOf({ type: 'MissionEvaluated' })).toEqual({
        kind: 'export-end',
        events: 4,
        subjectKeys: 0,
        partitions: 1,
        heads: [expect.stringMatching(/^[0-9a-f]{40}$/)],
        filter: { type: 'MissionEvaluated' },
      });
      expect(await endOf({ from: knownStepTime(4), to: knownStepTime(6) })).toMatchObject({
        events: 3,
        filter: { from: knownStepTime(4).toISOString(), to: knownStepTime(6).toISOString() },
      });
      expect(await endOf({ mission: KNOWN_MISSIONS.ok, type: 'MissionEvaluated' })).toMatchObject({
        filter: { type: 'MissionEvaluated', mission: KNOWN_MISSIONS.ok },
      });
      expect(await endOf({})).not.toHaveProperty('filter');
      // --no-keys marks the file as the filters do: it read as a whole export, a backup no one could read the guests' data from.
      expect(await endOf({ keys: false })).toMatchObject({ filter: { keys: false } });
      expect(await endOf({ keys: true })).not.toHaveProperty('filter');
      expect(await endOf({ type: 'MissionEvaluated', keys: false })).toMatchObject({ filter: { type: 'MissionEvaluated', keys: false } });
    });

    it('given a filtered export, then import refuses it saying it is filtered and by what, before its broken chains, and writes nothing', async () => {
      expect(await refused('filtered', await exportText(redis, source, { type: 'MissionEvaluated' }))).toBe(
        'refusing to import: the export is filtered (--type MissionEvaluated): it holds only the events that matched, so only part of the hash chains, ' +
          'an extract to read and not a backup to restore; import a whole export (replay export without --from, --to, --type or --mission); nothing was written',
      );
      const window = await refused('filtered-window', await exportText(redis, source, { from: knownStepTime(4), to: knownStepTime(6) }));
      expect(window).toContain(`the export is filtered (--from ${knownStepTime(4).toISOString()} --to ${knownStepTime(6).toISOString()})`);
      expect(await refused('filtered-no-keys', await exportText(redis, source, { type: 'MissionEvaluated', keys: false }))).toContain(
        'the export is filtered (--type MissionEvaluated --no-keys): it holds only the events that matched, so only part of the hash chains, ' +
          'an extract to read and not a backup to restore; import a whole export (replay export without --from, --to, --type, --mission or --no-keys)',
      );
    });

    it("given an export made with --no-keys, then import refuses it as an extract without the guests' keys, even of a log that names no guest", async () => {
      expect(await refused('no-keys', await exportText(redis, source, { keys: false }))).toMatch(
        /^refusing to import: the export was made with --no-keys: it holds none of the guests' data keys, .*make a backup with replay export without --no-keys; nothing was written$/,
      );
    });

    it('given an end line without a filter (an export made before end lines named one), then it reads as a whole export; a filter that is none is refused', async () => {
      const old = { kind: 'export-end', events: 3, subjectKeys: 0, partitions: 1 };
      expect(parseExportEndLine(old, 9)).toEqual(old);
      expect(parseExportEndLine({ ...old, filter: { keys: false } }, 9)).toEqual({ ...old, filter: { keys: false } });
      for (const filter of [{}, { type: 7 }, { colour: 'red' }, ['type'], 'MissionEvaluated', { keys: true }, { keys: 'false' }])
        expect(() => parseExportEndLine({ ...old, filter }, 9)).toThrow(
          /line 9 is an export's end whose filter is not one or more of from, to, type, mission \(each a non-empty string\) or keys \(false\)/,
        );
    });

    it('given a file without an end line (an export made before they had one) and acceptMissingEnd, then it imports as it is', async () => {
      const lines = (await exportText(redis, source)).trimEnd().split('\n').slice(0, -1);
      const copy = freshKeys('no-end-line');
      await expect(importLog(redis, copy, Readable.from([`${lines.join('\n')}\n`]), undefined, { acceptMissingEnd: true })).resolves.toMatchObject({
        events: KNOWN_EVENT_COUNT,
      });
      expect(await verifyLog(redis, copy)).toMatchObject({ ok: true });
    });
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
        .map((line) => JSON.parse(line) as { kind?: string; missionId: string; type: string; version: number; at: string; events?: number })
        .filter((line) => line.kind !== 'export-end');
    const missionText = await exportText(redis, source, { mission: KNOWN_MISSIONS.ok });
    const mission = parse(missionText);
    expect(mission.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
    // The end line counts what this export wrote, not the log.
    expect(JSON.parse(missionText.trimEnd().split('\n').pop() ?? '')).toMatchObject({ kind: 'export-end', events: 6 });
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
    await importLog(redis, small, Readable.from([`${withEndLineCounted(many.split('\n')).join('\n')}\n`]));
    const result = await exportLog(redis, small, slow);
    slow.end();
    await reading;
    expect(result.exported).toBe(600);
    expect(Buffer.concat(received).toString('utf8').split('\n').filter(Boolean)).toHaveLength(600 + 1);
    expect(drains).toBeGreaterThan(0);
  });
});
