import { Readable, Writable } from 'node:stream';
import Redis from 'ioredis';
import { exportLog, importLog, Finding, rebuildReadModels, Progress, sha1Hex, verifyLog } from '@app/audit';
import { KeyLayout } from '@app/event-store';
import { decideCreate } from '@app/mission';
import { deleteKeysByPrefix, enqueuedAt, testKeyPrefix, aCreate, buildKnownLog, KNOWN_EVENT_COUNT, KNOWN_MISSIONS, testRedis } from '@app/testing';
import { chainFindings } from '../support/chain-findings';
import { withEndLineCounted } from '../support/export-lines';
import { editEventInPlace, rewriteLog } from '../support/log-rewrite';

const { ok, retry, dead, cancel, wait } = KNOWN_MISSIONS;

/** The culprits a report names, as "kind mission vN" (order as reported). */
const culprits = (findings: Finding[]) => findings.map((f) => `${f.kind} ${f.missionId} v${f.version ?? '-'}`);

async function exportLines(redis: Redis, keys: KeyLayout): Promise<string[]> {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  await exportLog(redis, keys, sink);
  return chunks
    .join('')
    .split('\n')
    .filter((line) => line.length > 0);
}

const lineOf = (lines: string[], missionId: string, version: number): number =>
  lines.findIndex((line) => {
    const event = JSON.parse(line) as { missionId: string; version: number };
    return event.missionId === missionId && event.version === version;
  });

describe('verify (real Redis)', () => {
  const redis = testRedis();
  const prefixes: string[] = [];
  let source: KeyLayout;
  let lines: string[];

  /** A fresh, empty prefix that afterAll deletes. */
  const freshKeys = (name: string): KeyLayout => {
    const prefix = testKeyPrefix(`audit-verify-${name}`);
    prefixes.push(prefix);
    return new KeyLayout(prefix);
  };

  /** The known log with `tamper` applied to its export, imported into a fresh prefix. */
  async function tamperedImport(name: string, tamper: (lines: string[]) => string[]): Promise<KeyLayout> {
    const keys = freshKeys(name);
    await importLog(redis, keys, Readable.from([`${withEndLineCounted(tamper([...lines])).join('\n')}\n`]));
    return keys;
  }

  const logIdOf = async (keys: KeyLayout, missionId: string, version: number): Promise<string | null> =>
    redis.lindex(keys.missionEvents(missionId), version - 1);

  beforeAll(async () => {
    source = freshKeys('source');
    await buildKnownLog(redis, source);
    lines = await exportLines(redis, source);
  });

  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given the log as written, then verify passes and reports progress', async () => {
    const progress: Progress[] = [];
    const result = await verifyLog(redis, source, (p) => progress.push(p));
    expect(result).toMatchObject({ ok: true, findings: [], events: KNOWN_EVENT_COUNT, missions: 5 });
    expect(result.eventsPerSecond).toBeGreaterThan(0);
    expect(progress).toContainEqual({ phase: 'read log', done: KNOWN_EVENT_COUNT, total: KNOWN_EVENT_COUNT });
    expect(await chainFindings(redis, source.partitions[0])).toEqual([]);
  });

  it('given missions appended while verify runs, then it catches up and reports nothing', async () => {
    const keys = freshKeys('live');
    const { store } = await buildKnownLog(redis, keys);
    const appends: Promise<unknown>[] = [];
    let n = 0;
    const appendOne = () => {
      const id = `m-live-${++n}`;
      appends.push(store.append(id, null, decideCreate(aCreate({ title: `Live ${n}` })), { actor: 'intake' }, enqueuedAt()));
    };
    // Fire appends (not awaited) in every phase, so some land between the walk and its reads of the read model.
    const perPhase = new Map<string, number>();
    const result = await verifyLog(
      redis,
      keys,
      (p) => {
        const fired = perPhase.get(p.phase) ?? 0;
        if (fired < 3) {
          perPhase.set(p.phase, fired + 1);
          appendOne();
        }
      },
      { batchSize: 4 },
    );
    await Promise.all(appends);
    expect(result.findings).toEqual([]);
    expect([...perPhase.keys()]).toEqual(['read log', 'check heads', 'compare read model']);
    // The appends made after the walk were caught up with, not reported.
    expect(result.events).toBe(KNOWN_EVENT_COUNT + 2 * n);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, events: KNOWN_EVENT_COUNT + 2 * n, missions: 5 + n });
  });

  it('given one event removed with XDEL, then verify fails and names it by log id, mission and version', async () => {
    const keys = freshKeys('xdel');
    await buildKnownLog(redis, keys);
    const victim = await logIdOf(keys, retry, 6);
    expect(await redis.xdel(keys.partitions[0].log, victim ?? '')).toBe(1);

    const result = await verifyLog(redis, keys);
    expect(result.ok).toBe(false);
    expect(result.findings).toContainEqual(expect.objectContaining({ kind: 'deleted', missionId: retry, version: 6, logId: victim }));
    // Nothing else in the log is blamed; the mission's fold breaks without its v6.
    expect(culprits(result.findings)).toEqual([`deleted ${retry} v6`, `unreplayable ${retry} v7`]);
  });

  it('given two events of one mission removed, apart in the log, then both are named and nothing else is blamed', async () => {
    const keys = freshKeys('xdel-two');
    await buildKnownLog(redis, keys);
    const v5 = await logIdOf(keys, retry, 5);
    const v6 = await logIdOf(keys, retry, 6);
    await redis.xdel(keys.partitions[0].log, v5 ?? '', v6 ?? '');

    const chain = await chainFindings(redis, keys.partitions[0]);
    expect(chain).toEqual([
      expect.objectContaining({ kind: 'deleted', missionId: retry, version: 5, logId: v5 }),
      expect.objectContaining({ kind: 'deleted', missionId: retry, version: 6, logId: v6 }),
    ]);
  });

  it('given the last event of the log removed, then the heads name it as deleted', async () => {
    const keys = await tamperedImport('xdel-last', (all) => all);
    const victim = await logIdOf(keys, retry, 15);
    await redis.xdel(keys.partitions[0].log, victim ?? '');

    const findings = await chainFindings(redis, keys.partitions[0]);
    expect(findings).toEqual([expect.objectContaining({ kind: 'deleted', missionId: retry, version: 15, logId: victim })]);
  });

  /**
   * The log's last `count` entries removed, and the log head and their mission's `h` and `v` set back to
   * the last event kept, from the links of the oldest removed (nothing hashed again): only the mission's
   * event list still names the removed entries. Resolves with their log ids, oldest first.
   */
  async function cutTail(keys: KeyLayout, count: number): Promise<string[]> {
    const log = keys.partitions[0].log;
    const cut = (await redis.xrevrange(log, '+', '-', 'COUNT', count)).reverse();
    const oldest = JSON.parse(cut[0][1][3]) as { missionId: string; version: number; prevHash: string; logPrevHash: string };
    const ids = cut.map(([id]) => id);
    await redis.xdel(log, ...ids);
    await redis.set(keys.partitions[0].logHead, oldest.logPrevHash);
    await redis.hset(keys.mission(oldest.missionId), 'h', oldest.prevHash, 'v', String(oldest.version - 1));
    return ids;
  }

  // It was only drift ("names 15 events, the log has 12"), whose remedy (rebuild) wrote the event list, the last record of the cut, over.
  it("given the log's tail cut and its heads set back to the last event kept, then the cut events are named deleted and rebuild keeps the evidence", async () => {
    const keys = freshKeys('cut-tail');
    await buildKnownLog(redis, keys);
    const ids = await cutTail(keys, 3);
    expect(ids).toEqual([await logIdOf(keys, retry, 13), await logIdOf(keys, retry, 14), await logIdOf(keys, retry, 15)]);

    const result = await verifyLog(redis, keys);
    const chain = result.findings.filter((f) => f.kind !== 'read-model-drift');
    expect(chain).toEqual(
      [13, 14, 15].map((version, i) =>
        expect.objectContaining({ kind: 'deleted', missionId: retry, version, logId: ids[i], detail: expect.stringContaining('event list') }),
      ),
    );
    expect(result.findings.filter((f) => f.kind === 'read-model-drift' && f.missionId)).toEqual([
      expect.objectContaining({ missionId: retry, detail: expect.stringMatching(/^follows the change of its log events named above/) }),
    ]);

    // The mission is left as it is: its event list is all that still names the cut entries.
    expect((await rebuildReadModels(redis, keys)).brokenChain).toEqual([retry]);
    expect(await redis.lrange(keys.missionEvents(retry), 12, -1)).toEqual(ids);
    expect(culprits((await verifyLog(redis, keys)).findings).slice(0, 3)).toEqual([13, 14, 15].map((v) => `deleted ${retry} v${v}`));
  });

  it("given the log's tail cut and only the mission's h set back, then the cut events are named deleted, not a v that drifted", async () => {
    const keys = freshKeys('cut-tail-h');
    await buildKnownLog(redis, keys);
    const ids = await cutTail(keys, 2);
    await redis.hset(keys.mission(retry), 'v', '15');

    const chain = await chainFindings(redis, keys.partitions[0]);
    expect(chain).toEqual([
      expect.objectContaining({ kind: 'deleted', missionId: retry, version: 14, logId: ids[0] }),
      expect.objectContaining({ kind: 'deleted', missionId: retry, version: 15, logId: ids[1] }),
    ]);
  });

  it('given the event list naming the last log id twice, then that is drift, not a deletion: the id is in the log', async () => {
    const keys = freshKeys('list-doubled');
    await buildKnownLog(redis, keys);
    await redis.rpush(keys.missionEvents(ok), (await logIdOf(keys, ok, 6)) ?? '', 'not-an-id');
    expect(await chainFindings(redis, keys.partitions[0])).toEqual([]);
  });

  // XRANGE refused it, and its error ended the whole walk: verify and rebuild stopped for every partition.
  it('given the event list naming an id past what a stream id holds, then that is drift, and verify goes on', async () => {
    const keys = freshKeys('list-id-out-of-range');
    await buildKnownLog(redis, keys);
    await redis.rpush(keys.missionEvents(ok), '99999999999999999999999-0');
    expect(await chainFindings(redis, keys.partitions[0])).toEqual([]);
    const result = await verifyLog(redis, keys);
    expect(result.findings).toEqual([expect.objectContaining({ kind: 'read-model-drift', missionId: ok })]);
  });

  it("given an event's data changed (tampered export, imported), then verify fails and names that event as edited", async () => {
    const keys = await tamperedImport('edit', (all) => {
      const at = lineOf(all, ok, 5);
      const edited = all[at].replace('"latencyMs":1200', '"latencyMs":12');
      expect(edited).not.toBe(all[at]);
      all[at] = edited;
      return all;
    });
    const result = await verifyLog(redis, keys);
    expect(result.ok).toBe(false);
    expect(result.findings).toEqual([expect.objectContaining({ kind: 'edited', missionId: ok, version: 5, logId: await logIdOf(keys, ok, 5) })]);
  });

  it('given the last event of a mission edited, then the next event in the log names it', async () => {
    const keys = await tamperedImport('edit-tail', (all) => {
      const at = lineOf(all, cancel, 4);
      all[at] = all[at].replace('guest checked out early', 'guest never arrived');
      return all;
    });
    expect(culprits(await chainFindings(redis, keys.partitions[0]))).toEqual([`edited ${cancel} v4`]);
  });

  it('given two events of different missions swapped, then verify fails and names both as reordered', async () => {
    const keys = await tamperedImport('swap', (all) => {
      const first = lineOf(all, retry, 3);
      expect(JSON.parse(all[first + 1]).missionId).toBe(ok);
      [all[first], all[first + 1]] = [all[first + 1], all[first]];
      return all;
    });
    const result = await verifyLog(redis, keys);
    expect(result.ok).toBe(false);
    expect(culprits(result.findings)).toEqual([`reordered ${ok} v5`, `reordered ${retry} v3`]);
  });

  it('given two events of one mission swapped far apart, then both are named', async () => {
    const keys = await tamperedImport('swap-far', (all) => {
      const a = lineOf(all, dead, 3);
      const b = lineOf(all, dead, 6);
      [all[a], all[b]] = [all[b], all[a]];
      return all;
    });
    const result = await verifyLog(redis, keys);
    expect(result.ok).toBe(false);
    const chain = result.findings.filter((f) => f.kind !== 'unreplayable');
    expect(culprits(chain)).toEqual([`reordered ${dead} v6`, `reordered ${dead} v3`]);
  });

  it('given a forged event inserted, then verify names it as inserted', async () => {
    const keys = await tamperedImport('insert', (all) => {
      const at = lineOf(all, wait, 2);
      const forged = all[at].replace(/"eventId":"[^"]+"/, '"eventId":"forged"');
      all.splice(at - 3, 0, forged);
      return all;
    });
    const chain = await chainFindings(redis, keys.partitions[0]);
    expect(chain[0]).toMatchObject({ kind: 'inserted', missionId: wait, version: 2 });
    expect(chain.map((f) => f.kind)).not.toContain('edited');
  });

  // The log's genuine last event was named inserted ("nothing links to it") and the copy reordered.
  it('given a byte copy of an old event appended and the log head moved to it, then the copy is named a duplicate, and nothing else', async () => {
    const keys = freshKeys('duplicate');
    await buildKnownLog(redis, keys);
    const log = keys.partitions[0].log;
    const original = (await logIdOf(keys, ok, 3)) ?? '';
    const [[, fields]] = await redis.xrange(log, original, original);
    const copy = (await redis.xadd(log, '*', ...fields)) as string;
    await redis.set(keys.partitions[0].logHead, sha1Hex(fields[3]));

    const chain = await chainFindings(redis, keys.partitions[0]);
    expect(chain).toEqual([
      expect.objectContaining({ kind: 'duplicate', missionId: ok, version: 3, logId: copy, detail: expect.stringContaining(`a byte copy of ${original}`) }),
    ]);
  });

  it('given the log head moved back to an earlier event, then the detail names the log head, not an event after the last', async () => {
    const keys = freshKeys('head-back');
    await buildKnownLog(redis, keys);
    const [, [, [, , , json]]] = await redis.xrevrange(keys.partitions[0].log, '+', '-', 'COUNT', 2);
    await redis.set(keys.partitions[0].logHead, sha1Hex(json));

    const [finding] = await chainFindings(redis, keys.partitions[0]);
    expect(finding.detail).toContain('the log head names');
    expect(finding.detail).not.toContain('the event after it');
  });

  it('given a read-model field changed by hand, then verify fails and names that mission only', async () => {
    const keys = freshKeys('hset');
    await buildKnownLog(redis, keys);
    const state = JSON.parse((await redis.hget(keys.mission(dead), 's')) ?? '{}') as Record<string, unknown>;
    await redis.hset(keys.mission(dead), 's', JSON.stringify({ ...state, lastError: null }));

    const result = await verifyLog(redis, keys);
    expect(result.ok).toBe(false);
    expect(result.findings).toEqual([
      expect.objectContaining({ kind: 'read-model-drift', missionId: dead, version: 7, detail: expect.stringContaining('lastError') }),
    ]);
  });

  it('given st and the status counters changed by hand, then both are reported', async () => {
    const keys = await tamperedImport('counters', (all) => all);
    await redis.hset(keys.mission(wait), 'st', 'running');
    await redis.hincrby(keys.partitions[0].statusCounts, 'queued', 5);

    const result = await verifyLog(redis, keys);
    expect(result.findings).toEqual([
      expect.objectContaining({ kind: 'read-model-drift', missionId: wait, detail: expect.stringContaining('st is running, the replay says queued') }),
      expect.objectContaining({ kind: 'read-model-drift', missionId: '', detail: expect.stringContaining('queued is 6, the log says 1') }),
    ]);
  });

  it("given a mission's h changed by hand, then its last event is named at the head", async () => {
    const keys = await tamperedImport('h', (all) => all);
    await redis.hset(keys.mission(ok), 'h', 'f'.repeat(40));
    expect(culprits(await chainFindings(redis, keys.partitions[0]))).toEqual([`head-mismatch ${ok} v6`]);
  });

  // It was named only as the mission's h being wrong, whose remedy (delete the hash, rebuild) writes h from the forged event.
  it("given the log's last event edited in place, then it is named as edited: the log head and the mission's h both vouch against it", async () => {
    const keys = freshKeys('edit-last');
    await buildKnownLog(redis, keys);
    const last = await logIdOf(keys, retry, 15);
    const [[lastInLog]] = await redis.xrevrange(keys.partitions[0].log, '+', '-', 'COUNT', 1);
    expect(lastInLog).toBe(last);
    await editEventInPlace(redis, keys, last ?? '', (json) => json.replace(/"actor":"[^"]*"/, '"actor":"forged"'));

    const chain = await chainFindings(redis, keys.partitions[0]);
    expect(chain).toEqual([
      expect.objectContaining({ kind: 'edited', missionId: retry, version: 15, logId: last, detail: expect.stringContaining('the log head and the mission') }),
    ]);
  });

  // The drift was reported as plain read-model drift, whose remedy (rebuild) wrote the forgery over the read model.
  it('given an event edited in place, then the drift of its mission is said to follow the log change, not drift to rebuild', async () => {
    const keys = freshKeys('edit-in-place');
    await buildKnownLog(redis, keys);
    const target = await logIdOf(keys, cancel, 3);
    await editEventInPlace(redis, keys, target ?? '', (json) => json.replace('"agentId":"agent-omar"', '"agentId":"agent-mallory"'));

    const result = await verifyLog(redis, keys);
    expect(culprits(result.findings)).toEqual([`edited ${cancel} v3`, `read-model-drift ${cancel} v4`]);
    expect(result.findings[1].detail).toMatch(/^follows the change of its log events named above, not drift to rebuild .*: s differs/);
  });

  // Its drift was said to follow a change of the log, which was intact: the only other finding was the missing h, the hash's own.
  it("given a mission's hash deleted and the log intact, then its drift is drift to rebuild, not a log change", async () => {
    const keys = freshKeys('unhashed-intact');
    await buildKnownLog(redis, keys);
    await redis.del(keys.mission(retry));

    const result = await verifyLog(redis, keys);
    expect(culprits(result.findings)).toEqual([`head-mismatch ${retry} v15`, `read-model-drift ${retry} v15`]);
    expect(result.findings[0].detail).toBe(`mission ${retry} has no h (hash of its last event)`);
    expect(result.findings[1].detail).not.toContain('follows the change');
    // As rebuild then does: it writes the mission whole from the log.
    await rebuildReadModels(redis, keys);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // As rebuild, which leaves such a mission alone (ChainChecker.unanchoredMission): nothing but the log vouches for its last event.
  it("given the log's last event edited and its mission's hash deleted, then its drift is said to follow the log change", async () => {
    const keys = freshKeys('edited-unhashed');
    await buildKnownLog(redis, keys);
    const last = await logIdOf(keys, retry, 15);
    await redis.del(keys.mission(retry));
    await editEventInPlace(redis, keys, last ?? '', (json) => json.replace(/"actor":"[^"]*"/, '"actor":"forged"'));

    const result = await verifyLog(redis, keys);
    const drift = result.findings.filter((f) => f.kind === 'read-model-drift');
    expect(drift).toEqual([expect.objectContaining({ missionId: retry, detail: expect.stringMatching(/^follows the change of its log events named above/) })]);
    expect((await rebuildReadModels(redis, keys)).brokenChain).toEqual([retry]);
  });

  // The dead-letter queue and the reasons its missions' hashes keep were never compared: each of these passed.
  describe('given a dead letter (what GET /api/dlq lists) changed by hand', () => {
    it.each([
      [
        'its reason forged',
        (keys: KeyLayout) => redis.hset(keys.mission(dead), 'dr', 'forged'),
        dead,
        'its dead-letter reason (dr) is "forged", the log says "failed 1 of 1 attempts"',
      ],
      ['taken out of the queue', (keys: KeyLayout) => redis.zrem(keys.partitions[0].deadLetters, dead), dead, 'it is not in the dead-letter queue'],
      [
        'dated otherwise',
        (keys: KeyLayout) => redis.zadd(keys.partitions[0].deadLetters, 0, dead),
        dead,
        'its dead letter is dated 1970-01-01T00:00:00.000Z, the log says',
      ],
      [
        'a finished mission put in the queue',
        (keys: KeyLayout) => redis.zadd(keys.partitions[0].deadLetters, 1, ok),
        ok,
        'it is in the dead-letter queue, which its events leave it out of',
      ],
      [
        'a reason given to a mission never dead-lettered',
        (keys: KeyLayout) => redis.hset(keys.mission(wait), 'dr', 'forged'),
        wait,
        'it has a dead-letter reason (dr)',
      ],
    ])('%s, then verify names the mission as drift', async (name, change, missionId, detail) => {
      const keys = freshKeys(`dlq-${name.replace(/\W+/g, '-')}`);
      await buildKnownLog(redis, keys);
      await change(keys);

      const result = await verifyLog(redis, keys);
      expect(result.findings).toEqual([expect.objectContaining({ kind: 'read-model-drift', missionId, detail: expect.stringContaining(detail) })]);
    });

    // Written so by versions before dr was kept, which dated the entry a few ms before its event:
    // every one of them was drift after an upgrade, and rebuild re-dated what GET /api/dlq shows.
    it('without a reason in its hash (dead-lettered before dr was kept) and dated a few ms before its event, then verify passes: GET /api/dlq reads it from the log', async () => {
      const keys = freshKeys('dlq-no-reason');
      await buildKnownLog(redis, keys);
      await redis.hdel(keys.mission(dead), 'dr');
      const dated = Number(await redis.zscore(keys.partitions[0].deadLetters, dead));
      await redis.zadd(keys.partitions[0].deadLetters, dated - 7, dead);
      expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
    });
  });

  describe('given log entries of another shape than the append script writes', () => {
    it('given an entry with a forged event before the stored one (readers take the first e), then verify names it instead of passing', async () => {
      const keys = await tamperedImport('two-e', (all) => all);
      const target = await logIdOf(keys, ok, 2);
      await rewriteLog(redis, keys, (id, fields) => {
        if (id !== target) return fields;
        const forged = fields[3].toString('utf8').replace(/"agentId":"[^"]*"/, '"agentId":"agent-evil"');
        return [Buffer.from('m'), fields[1], Buffer.from('e'), Buffer.from(forged), ...fields];
      });

      // It passed: verify read the last e, the stored one, while history showed the forged one.
      const result = await verifyLog(redis, keys);
      expect(result.findings).toEqual([
        expect.objectContaining({ kind: 'edited', missionId: ok, logId: target, detail: expect.stringContaining('has the fields m, e, m, e, not m and e') }),
      ]);
    });

    it('given an event whose stored bytes are no UTF-8 but decode to the text it was hashed over, then verify names it', async () => {
      const keys = freshKeys('utf8');
      const store = (await buildKnownLog(redis, keys)).store;
      const at = new Date('2025-06-02T08:00:00.000Z');
      await store.append('m-replacement', null, decideCreate(aCreate({ title: 'Zimmer \uFFFD 12' }), at), { actor: 'intake', now: at }, enqueuedAt(at));
      const target = await logIdOf(keys, 'm-replacement', 1);
      // U+FFFD is EF BF BD in UTF-8; a lone 0xFF decodes to it again, so the decoded text hashed the same.
      await rewriteLog(redis, keys, (id, fields) => {
        if (id !== target) return fields;
        const bytes = fields[3];
        const at = bytes.indexOf(Buffer.from([0xef, 0xbf, 0xbd]));
        return [fields[0], fields[1], fields[2], Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff]), bytes.subarray(at + 3)])];
      });

      const result = await verifyLog(redis, keys);
      expect(result.findings).toEqual([
        expect.objectContaining({ kind: 'edited', missionId: 'm-replacement', logId: target, detail: 'the stored event is not valid UTF-8' }),
      ]);
    });

    it('given an event with a version no number of events reaches, then verify names it and does not crash', async () => {
      const keys = await tamperedImport('huge-version', (all) => {
        const at = lineOf(all, retry, 3);
        all[at] = all[at].replace(/"version":3,/, '"version":-1e21,');
        return all;
      });

      // It died with "Invalid array length", building the list of versions in between.
      const result = await verifyLog(redis, keys);
      expect(result.ok).toBe(false);
      expect(result.findings).toContainEqual(
        expect.objectContaining({ kind: 'edited', missionId: retry, detail: 'the stored event has no whole version of 1 or more' }),
      );
    });
  });

  describe('given a log written over two partitions', () => {
    const twoPartitions = async (): Promise<KeyLayout> => {
      const prefix = testKeyPrefix('audit-verify-partitions');
      prefixes.push(prefix);
      const keys = new KeyLayout(prefix, 2);
      await buildKnownLog(redis, keys);
      return keys;
    };

    it('when verified with one partition, then the partition it left out is named, not an OK for half the log', async () => {
      const keys = await twoPartitions();
      const result = await verifyLog(redis, new KeyLayout(keys.prefix, 1));
      expect(result.findings).toContainEqual(
        expect.objectContaining({ kind: 'misplaced', missionId: '', detail: expect.stringContaining('a log partition 1 beyond the 1 verified') }),
      );
    });

    it('when verified with three partitions, then each event its mission does not belong to there is named as misplaced', async () => {
      const keys = await twoPartitions();
      const three = new KeyLayout(keys.prefix, 3);
      const result = await verifyLog(redis, three);
      const misplaced = result.findings.filter((finding) => finding.kind === 'misplaced');
      const expected = Object.values(KNOWN_MISSIONS).filter((missionId) => three.partitionOf(missionId) !== keys.partitionOf(missionId));
      expect(expected.length).toBeGreaterThan(0);
      expect(new Set(misplaced.map((finding) => finding.missionId))).toEqual(new Set(expected));
      // The same log with the count it was written with holds.
      expect((await verifyLog(redis, keys)).ok).toBe(true);
    });
  });

  describe("given a mission's event list (what history and state read) changed by hand", () => {
    it.each([
      ['cut short', (keys: KeyLayout) => redis.ltrim(keys.missionEvents(ok), 0, 1), 'names 2 events, the log has 6'],
      [
        'with its last id twice',
        async (keys: KeyLayout) => redis.rpush(keys.missionEvents(ok), (await redis.lindex(keys.missionEvents(ok), -1)) ?? ''),
        'names 7 events, the log has 6',
      ],
      [
        "naming another mission's event",
        async (keys: KeyLayout) => redis.lset(keys.missionEvents(ok), 3, (await logIdOf(keys, retry, 2)) ?? ''),
        'as version 4, where the log has',
      ],
    ])('%s, then verify names the mission: history showed other events than the log holds', async (_change, change, detail) => {
      const keys = await tamperedImport(`list-${_change.replace(/\W+/g, '-')}`, (all) => all);
      await change(keys);

      // It passed: verify never read the lists.
      const result = await verifyLog(redis, keys);
      expect(result.findings).toEqual([expect.objectContaining({ kind: 'read-model-drift', missionId: ok, detail: expect.stringContaining(detail) })]);
    });
  });
});
