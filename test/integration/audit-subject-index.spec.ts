import { rebuildReadModels, verifyLog } from '@app/audit';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { decideCreate } from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import { aCreateInput, deleteKeysByPrefix, TEST_QUEUE_ORDER, testKeyPrefix, testRedisConnection } from '@app/testing';

/** A data subject's set (what an access request and an erasure read) held to the log by verify and rebuild. */
describe('the subject index in verify and rebuild (real Redis)', () => {
  const redis = testRedisConnection('audit-subject-index-spec');
  const keys = new KeyLayout(testKeyPrefix('audit-subject-index'), 2);

  const missionsOf = async (subject: string) =>
    (await Promise.all(keys.partitions.map((partition) => redis.smembers(partition.subjectMissions(subject))))).flat().sort();
  const setOf = (missionId: string, subject: string) => keys.partitions[keys.partitionOf(missionId)].subjectMissions(subject);

  const pipeline = new MissionPipeline(new MissionStore(redis, keys), new ReadyQueue(redis, keys, TEST_QUEUE_ORDER));

  beforeAll(async () => {
    const subjectsOf: Record<string, string[]> = { 'm-a': ['guest:anna', 'guest:bob'], 'm-b': ['guest:anna'], 'm-c': ['guest:carl'], 'm-d': [] };
    for (const [id, subjects] of Object.entries(subjectsOf)) {
      expect((await pipeline.append(id, null, decideCreate(aCreateInput({ subjects })), { actor: 'test' })).code).toBe(AppendCode.Ok);
    }
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
    await redis.quit();
  });

  it('given the sets as the creates wrote them, then verify passes and rebuild adds nothing', async () => {
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
    expect(await rebuildReadModels(redis, keys)).toMatchObject({ subjectsReindexed: 0, subjectsUnindexed: 0 });
  });

  it('given a mission taken out of one set and another set lost, then verify names each mission and subject, and rebuild puts them back', async () => {
    await redis.srem(setOf('m-a', 'guest:bob'), 'm-a');
    await redis.del(setOf('m-c', 'guest:carl'));

    const found = (await verifyLog(redis, keys)).findings;
    expect(found.map(({ kind, missionId, detail }) => ({ kind, missionId, detail })).sort((a, b) => a.missionId.localeCompare(b.missionId))).toEqual([
      { kind: 'read-model-drift', missionId: 'm-a', detail: expect.stringContaining('the subject index of guest:bob') },
      { kind: 'read-model-drift', missionId: 'm-c', detail: expect.stringContaining('the subject index of guest:carl') },
    ]);
    expect(found.find((finding) => finding.missionId === 'm-a')?.detail).not.toContain('guest:anna');

    const rebuilt = await rebuildReadModels(redis, keys);

    expect(rebuilt).toMatchObject({ subjectsReindexed: 2, switched: 0, unchanged: 2 });
    expect(await missionsOf('guest:anna')).toEqual(['m-a', 'm-b']);
    expect(await missionsOf('guest:bob')).toEqual(['m-a']);
    expect(await missionsOf('guest:carl')).toEqual(['m-c']);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  it('given a set that names a mission its create does not name, and one the log does not have, then verify names them and rebuild takes them out', async () => {
    // m-c is Carl's, in Anna's set of m-c's partition; m-ghost is no mission at all.
    await redis.sadd(setOf('m-c', 'guest:anna'), 'm-c');
    await redis.sadd(setOf('m-b', 'guest:anna'), 'm-ghost');

    const found = (await verifyLog(redis, keys)).findings;

    expect(found.map(({ kind, missionId, detail }) => ({ kind, missionId, detail })).sort((a, b) => a.missionId.localeCompare(b.missionId))).toEqual([
      {
        kind: 'read-model-drift',
        missionId: 'm-c',
        detail: expect.stringContaining(
          'the subject index of guest:anna (read by access requests and erasures) names the mission, whose create does not name guest:anna',
        ),
      },
      { kind: 'read-model-drift', missionId: 'm-ghost', detail: expect.stringContaining("names m-ghost, a mission this partition's log does not have") },
    ]);

    // A mission about Anna created while the rebuild runs, after its replay: not in the replay, yet no stray.
    // In partition 0, whose replay is over by its first beforeSwitch (which runs once per partition).
    const late = ['m-e', 'm-f', 'm-g', 'm-h'].find((id) => keys.partitionOf(id) === 0) as string;
    let created = false;
    const rebuilt = await rebuildReadModels(redis, keys, {
      beforeSwitch: async () => {
        if (created) return;
        created = true;
        expect((await pipeline.append(late, null, decideCreate(aCreateInput({ subjects: ['guest:anna'] })), { actor: 'test' })).code).toBe(AppendCode.Ok);
      },
    });

    expect(rebuilt).toMatchObject({ subjectsUnindexed: 2, subjectsReindexed: 0, switched: 0 });
    expect(await missionsOf('guest:anna')).toEqual(['m-a', 'm-b', late].sort());
    expect(await missionsOf('guest:carl')).toEqual(['m-c']);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // Rebuild puts a membership back by the rule the appends and an import write it by
  // (subjectIndexEffects), not by a second reading of the state's subjects.
  it("given every subject's set lost, then rebuild writes back exactly the sets the creates' effects wrote", async () => {
    const subjects = ['guest:anna', 'guest:bob', 'guest:carl'];
    const written = await Promise.all(subjects.map(missionsOf));
    expect(written.flat()).toHaveLength(5);
    for (const partition of keys.partitions) await redis.del(...subjects.map((subject) => partition.subjectMissions(subject)));

    const rebuilt = await rebuildReadModels(redis, keys);

    expect(rebuilt).toMatchObject({ subjectsReindexed: 5, subjectsUnindexed: 0, switched: 0 });
    expect(await Promise.all(subjects.map(missionsOf))).toEqual(written);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });
});
