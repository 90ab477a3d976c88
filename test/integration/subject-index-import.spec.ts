import { PassThrough, Readable } from 'node:stream';
import { exportLog, importLog } from '@app/audit';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { GuestDataKeys, MasterKeyRing, SubjectKeyCache, SubjectKeyStore } from '@app/guest-data';
import { decideCreate } from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { MISSION_EFFECTS, MissionPipeline } from '@app/pipeline';
import { aCreateInput, deleteKeysByPrefix, TEST_DATA_KEY_SECRET, TEST_QUEUE_ORDER, testKeyPrefix, testRedisConnection } from '@app/testing';

describe('the subject index through export and import (real Redis)', () => {
  const redis = testRedisConnection('subject-index-import-spec');
  const source = new KeyLayout(testKeyPrefix('subject-index-source'), 2);
  const target = new KeyLayout(testKeyPrefix('subject-index-target'), 2);
  const from = new KeyLayout(testKeyPrefix('subject-index-rule-source'));
  const to = new KeyLayout(testKeyPrefix('subject-index-rule-target'));

  afterAll(async () => {
    await deleteKeysByPrefix(redis, source.prefix);
    await deleteKeysByPrefix(redis, target.prefix);
    await deleteKeysByPrefix(redis, from.prefix);
    await deleteKeysByPrefix(redis, to.prefix);
    await redis.quit();
  });

  const missionsOf = async (keys: KeyLayout, subject: string) =>
    (await Promise.all(keys.partitions.map((partition) => redis.smembers(partition.subjectMissions(subject))))).flat().sort();

  it('given missions about a guest, when the log is exported and imported into a new prefix, then the index names the same missions there', async () => {
    const pipeline = new MissionPipeline(new MissionStore(redis, source), new ReadyQueue(redis, source, TEST_QUEUE_ORDER));
    const ring = MasterKeyRing.fromSecrets(TEST_DATA_KEY_SECRET);
    // The guests' keys, as the intake makes them to seal a create: an export naming guests without any of them is an extract, which import refuses.
    await new SubjectKeyStore(redis, new GuestDataKeys(source.prefix), ring, new SubjectKeyCache(0, 1)).keysFor(['guest:anna', 'guest:bob', 'guest:other']);
    const ids = ['m-a', 'm-b', 'm-c', 'm-d'];
    for (const [i, id] of ids.entries()) {
      const subjects = i === 3 ? ['guest:other'] : ['guest:anna', ...(i === 0 ? ['guest:bob'] : [])];
      expect((await pipeline.append(id, null, decideCreate(aCreateInput({ subjects })), { actor: 'test' })).code).toBe(AppendCode.Ok);
    }
    expect(await missionsOf(source, 'guest:anna')).toEqual(['m-a', 'm-b', 'm-c']);

    const file = new PassThrough();
    const chunks: Buffer[] = [];
    file.on('data', (chunk: Buffer) => chunks.push(chunk));
    await exportLog(redis, source, file);
    await importLog(redis, target, Readable.from([Buffer.concat(chunks).toString('utf8')]), undefined, { masterKeys: () => ring });

    expect(await missionsOf(target, 'guest:anna')).toEqual(['m-a', 'm-b', 'm-c']);
    expect(await missionsOf(target, 'guest:bob')).toEqual(['m-a']);
    expect(await missionsOf(target, 'guest:other')).toEqual(['m-d']);
  });

  it('given the effect table indexes a create under another subject too, when a log is imported, then the import indexes what the table says', async () => {
    const ring = MasterKeyRing.fromSecrets(TEST_DATA_KEY_SECRET);
    await new SubjectKeyStore(redis, new GuestDataKeys(from.prefix), ring, new SubjectKeyCache(0, 1)).keysFor(['guest:anna']);
    const pipeline = new MissionPipeline(new MissionStore(redis, from), new ReadyQueue(redis, from, TEST_QUEUE_ORDER));
    expect((await pipeline.append('m-rule', null, decideCreate(aCreateInput({ subjects: ['guest:anna'] })), { actor: 'test' })).code).toBe(AppendCode.Ok);
    const file = new PassThrough();
    const chunks: Buffer[] = [];
    file.on('data', (chunk: Buffer) => chunks.push(chunk));
    await exportLog(redis, from, file);

    // A change of the rule in MISSION_EFFECTS, the one place that says what a create causes, must reach the import.
    const rule = MISSION_EFFECTS.MissionCreated;
    MISSION_EFFECTS.MissionCreated = (event, context) => [...rule(event, context), { kind: 'index-subject', subject: 'guest:audit' }];
    try {
      await importLog(redis, to, Readable.from([Buffer.concat(chunks).toString('utf8')]), undefined, { masterKeys: () => ring });
    } finally {
      MISSION_EFFECTS.MissionCreated = rule;
    }

    expect(await missionsOf(to, 'guest:anna')).toEqual(['m-rule']);
    expect(await missionsOf(to, 'guest:audit')).toEqual(['m-rule']);
  });
});
