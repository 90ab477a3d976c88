import { checkReadyCounts, recountReadyQueue } from '@app/audit';
import { KeyLayout, MISSION_HASH_FIELDS } from '@app/event-store';
import { ReadyQueue } from '@app/mission-queue';
import { buildKnownLog, deleteKeysByPrefix, KNOWN_MISSIONS, TEST_QUEUE_ORDER, testKeyPrefix, testRedis } from '@app/testing';
import { EXIT_FINDINGS, EXIT_OK } from '../../scripts/replay';
import { queueInvariantViolations } from '../support/queue-invariant';
import { runReplayCli, verifyFindingsCli } from '../support/replay-cli';

const { wait } = KNOWN_MISSIONS;

/**
 * The ready queue's counts by level and by skill set, and each skill set's ready queue, against the
 * ready queue: m-wait is the known log's one ready mission (critical, its skill set in `sk`).
 */
describe("verify and rebuild on the ready queue's counts and skill-set queues (real Redis)", () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-ready-counts');
  const keys = new KeyLayout(prefix);
  const k = keys.partitions[0];
  const replay = (...args: string[]) => runReplayCli(args, { KEY_PREFIX: prefix });
  const verifyFindings = () => verifyFindingsCli({ KEY_PREFIX: prefix });
  /** A finding about the ready queue: drift of no one mission. */
  const drift = (detail: string) => ({ kind: 'read-model-drift', missionId: '', logId: '', detail });
  /** The counts as the lease and the queue stats read them: fields at 0 count as absent. */
  const counts = async (key: string): Promise<Record<string, string>> =>
    Object.fromEntries(Object.entries(await redis.hgetall(key)).filter(([, n]) => Number(n) !== 0));
  let skills: string;
  let score: string;

  beforeEach(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await buildKnownLog(redis, keys);
    skills = (await redis.hget(keys.mission(wait), MISSION_HASH_FIELDS.skillSet)) ?? '';
    score = (await redis.zscore(k.ready, wait)) ?? '';
    expect({ skills, score }).toEqual({ skills: expect.stringMatching(/.+/), score: expect.stringMatching(/.+/) });
    expect(await counts(k.readyByLevel)).toEqual({ critical: '1' });
    expect(await counts(k.readyBySkills)).toEqual({ [skills]: '1' });
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // The docs allowed deleting a ready queue alone: rebuild put m-wait back and counted it a second time
  // (critical 2), so the lease read its skill set's queue for a mission that was not there.
  it('given the ready queue deleted alone, when rebuild runs, then it puts the mission back counted once, and verify passes', async () => {
    await redis.del(k.ready, k.readySince);

    const run = await replay('--json', 'rebuild');

    expect(run.code).toBe(EXIT_OK);
    expect(JSON.parse(run.stdout)).toMatchObject({ effectsMended: 1, readyCountsRecounted: true, readyCountsMended: 2 });
    expect(await redis.zscore(k.ready, wait)).toBe(score);
    expect(await counts(k.readyByLevel)).toEqual({ critical: '1' });
    expect(await counts(k.readyBySkills)).toEqual({ [skills]: '1' });
    expect(await redis.zrange(k.readyWithSkillsPrefix + skills, 0, -1, 'WITHSCORES')).toEqual([wait, score]);
    expect(await queueInvariantViolations(redis, keys)).toEqual([]);
    expect((await replay('verify')).code).toBe(EXIT_OK);
  });

  // verify compared none of them: each of these said OK.
  it("given the counts and a skill set's queue changed by hand, when verify runs, then each key is a read-model-drift naming it, exit 1; rebuild writes them again", async () => {
    const skillQueue = k.readyWithSkillsPrefix + skills;
    await redis.hset(k.readyByLevel, 'critical', 5, 'low', 2);
    await redis.hset(k.readyBySkills, skills, 0);
    await redis.zrem(skillQueue, wait);
    await redis.zadd(skillQueue, 7, 'm-stray');

    const { code, findings } = await verifyFindings();

    expect(code).toBe(EXIT_FINDINGS);
    expect(findings).toEqual([
      drift(
        `the ready missions per priority level ${k.readyByLevel} differ from the ready queue ${k.ready} (its missions' pl): critical is 5, the ready queue holds 1; low is 2, the ready queue holds 0`,
      ),
      drift(
        `the ready missions per skill set ${k.readyBySkills}, by which a lease picks the queues it reads, differ from the ready queue ${k.ready} (its missions' sk): ${skills} is 0, the ready queue holds 1`,
      ),
      drift(
        `the ready queue of skill set ${skills} ${skillQueue}, which a lease reads, differs from the ready queue ${k.ready} (its missions' sk): it lacks ${wait}; it holds m-stray, which the ready queue does not hold with those skills`,
      ),
    ]);

    const rebuilt = await replay('--json', 'rebuild');

    expect(rebuilt.code).toBe(EXIT_OK);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ readyCountsRecounted: true, readyCountsMended: 5 });
    expect(await counts(k.readyByLevel)).toEqual({ critical: '1' });
    expect(await counts(k.readyBySkills)).toEqual({ [skills]: '1' });
    expect(await redis.zrange(skillQueue, 0, -1, 'WITHSCORES')).toEqual([wait, score]);
    expect(await verifyFindings()).toEqual({ code: EXIT_OK, findings: [] });
    const queue = new ReadyQueue(redis, keys, TEST_QUEUE_ORDER);
    const leased = await queue.lease(0, 10, 60_000, 'lease-after-recount', { freeAgents: [{ free: 2, skills: skills.split(',') }] });
    expect(leased.map(({ mission }) => mission.id)).toEqual([wait]);
  });

  it("given a mission scored otherwise in its skill set's queue than in the ready queue, when verify runs, then it names the score; rebuild writes it again", async () => {
    const skillQueue = k.readyWithSkillsPrefix + skills;
    await redis.zadd(skillQueue, 42, wait);

    const { code, findings } = await verifyFindings();

    expect(code).toBe(EXIT_FINDINGS);
    expect(findings.map(({ detail }) => detail)).toEqual([
      expect.stringContaining(
        `${skillQueue}, which a lease reads, differs from the ready queue ${k.ready} (its missions' sk): it scores ${wait} 42, the ready queue ${score}`,
      ),
    ]);
    expect((await replay('rebuild')).stdout).toMatch(/ready queue counts by level and skill set recounted +yes, 1 written again\n/);
    expect(await redis.zscore(skillQueue, wait)).toBe(score);
  });

  // Before, verify did not read them: a count replaced by hand was found only by the lease failing on it.
  it('given a count of the ready queue replaced by a string, when verify runs, then it is a wrong-type finding naming it, exit 1; deleted, rebuild writes it again', async () => {
    await redis.multi().del(k.readyByLevel).set(k.readyByLevel, 'a string').exec();

    const { code, findings } = await verifyFindings();

    expect(code).toBe(EXIT_FINDINGS);
    expect(findings).toEqual([
      {
        kind: 'wrong-type',
        missionId: '',
        logId: '',
        detail: `the key ${k.readyByLevel} holds another type of value than a hash, which no service writes: nothing can read it`,
      },
    ]);

    await redis.del(k.readyByLevel);
    expect((await replay('rebuild')).code).toBe(EXIT_OK);
    expect(await counts(k.readyByLevel)).toEqual({ critical: '1' });
    expect((await replay('verify')).code).toBe(EXIT_OK);
  });

  // verify did not compare ready-since, nor rebuild write it: a mission left there that was not ready
  // aged in the queue stats and brain_queue_oldest_ready_age_seconds for ever, and a ready mission
  // missing from it was never the oldest; both said OK.
  describe('ready-since', () => {
    const since = (detail: string) =>
      drift(
        `the ready-since times ${k.readySince}, by which the queue stats and brain_queue_oldest_ready_age_seconds tell the oldest ready mission's age, ` +
          `differ from the ready queue ${k.ready} (its missions' ea): ${detail}`,
      );
    let enqueuedAt: string;

    beforeEach(async () => {
      enqueuedAt = (await redis.hget(keys.mission(wait), MISSION_HASH_FIELDS.enqueuedAt)) ?? '';
      expect(await redis.zrange(k.readySince, 0, -1, 'WITHSCORES')).toEqual([wait, enqueuedAt]);
    });

    it('given a ready mission taken out of it and one that is not ready put in, when verify runs, then it names both, exit 1; rebuild writes it again and verify passes', async () => {
      await redis.zrem(k.readySince, wait);
      await redis.zadd(k.readySince, 1, 'm-stray');

      expect(await verifyFindings()).toEqual({
        code: EXIT_FINDINGS,
        findings: [since(`it lacks ${wait}; it holds m-stray, which the ready queue does not hold`)],
      });

      const rebuilt = await replay('--json', 'rebuild');

      expect(rebuilt.code).toBe(EXIT_OK);
      expect(JSON.parse(rebuilt.stdout)).toMatchObject({ readyCountsRecounted: true, readyCountsMended: 2 });
      expect(await redis.zrange(k.readySince, 0, -1, 'WITHSCORES')).toEqual([wait, enqueuedAt]);
      const aMinuteOn = Number(enqueuedAt) + 60_000;
      expect(await new ReadyQueue(redis, keys, TEST_QUEUE_ORDER).stats(aMinuteOn)).toMatchObject({ oldestReadyAgeMs: 60_000 });
      expect(await verifyFindings()).toEqual({ code: EXIT_OK, findings: [] });
    });

    it('given a ready mission timed there otherwise than its ea, when verify runs, then it names both times; rebuild writes its ea', async () => {
      await redis.zadd(k.readySince, 42, wait);

      expect(await verifyFindings()).toEqual({ code: EXIT_FINDINGS, findings: [since(`it times ${wait} at 42, its ea ${enqueuedAt}`)] });
      expect((await replay('rebuild')).stdout).toMatch(/ready queue counts by level and skill set recounted +yes, 1 written again\n/);
      expect(await redis.zscore(k.readySince, wait)).toBe(enqueuedAt);
    });

    it('given it replaced by a string, when verify runs, then it is a wrong-type finding naming it, exit 1; deleted, rebuild writes it again', async () => {
      await redis.multi().del(k.readySince).set(k.readySince, 'a string').exec();

      expect(await verifyFindings()).toEqual({
        code: EXIT_FINDINGS,
        findings: [
          {
            kind: 'wrong-type',
            missionId: '',
            logId: '',
            detail: `the key ${k.readySince} holds another type of value than a sorted set, which no service writes: nothing can read it`,
          },
        ],
      });

      await redis.del(k.readySince);
      expect((await replay('rebuild')).code).toBe(EXIT_OK);
      expect(await redis.zrange(k.readySince, 0, -1, 'WITHSCORES')).toEqual([wait, enqueuedAt]);
      expect((await replay('verify')).code).toBe(EXIT_OK);
    });
  });
});

// Read in batches of 2,000 ready missions: the counts are summed over them, and the queues checked in each.
describe('checkReadyCounts and recountReadyQueue on a ready queue of several batches (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-ready-batches');
  const keys = new KeyLayout(prefix);
  const k = keys.partitions[0];
  const levels = ['low', 'normal', 'high', 'critical'];
  const skillSets = ['plumbing', 'plumbing,tools', 'guest_communication'];
  const missions = Array.from({ length: 4_500 }, (_, i) => ({
    id: `m-${String(i).padStart(5, '0')}`,
    score: String(1_748_766_024_000 + i),
    level: levels[i % levels.length],
    skills: skillSets[i % skillSets.length],
  }));

  beforeAll(async () => {
    // As ready-membership.lua queues each: the ready zset, ready-since, its counts, its skill set's queue, its hash's queue fields.
    const pipeline = redis.pipeline();
    for (const { id, score, level, skills } of missions) {
      pipeline.zadd(k.ready, score, id).zadd(k.readySince, score, id).hincrby(k.readyByLevel, level, 1).hincrby(k.readyBySkills, skills, 1);
      pipeline
        .zadd(k.readyWithSkillsPrefix + skills, score, id)
        .hset(keys.mission(id), MISSION_HASH_FIELDS.priorityLevel, level, MISSION_HASH_FIELDS.skillSet, skills, MISSION_HASH_FIELDS.enqueuedAt, score);
    }
    await pipeline.exec();
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given them in step, then the check finds nothing; given counts and queues changed by hand, then it names each key and the recount writes only what differs', async () => {
    expect(await checkReadyCounts(redis, k)).toEqual({ settled: true, differences: [], mended: 0, wrongType: [] });
    const [last, stray] = [missions[4_499], missions[4_498]];
    await redis.del(k.readyByLevel, k.readyWithSkillsPrefix + 'plumbing');
    await redis.zadd(k.readyWithSkillsPrefix + 'guest_communication', 1, last.id, 2, stray.id);

    const found = await checkReadyCounts(redis, k);

    expect(found.differences.map(({ key }) => key)).toEqual([
      k.readyByLevel,
      k.readyWithSkillsPrefix + 'guest_communication',
      k.readyWithSkillsPrefix + 'plumbing',
    ]);
    expect(found.differences[1].detail).toContain(
      `it holds ${stray.id}, which the ready queue does not hold with those skills; it scores ${last.id} 1, the ready queue ${last.score}`,
    );
    expect(found.differences[2].detail).toContain('it lacks m-00000, m-00003, m-00006, m-00009, m-00012 and 1495 more');
    expect(await recountReadyQueue(redis, k)).toMatchObject({ settled: true, mended: levels.length + 2 + 1_500 });
    expect(await checkReadyCounts(redis, k)).toEqual({ settled: true, differences: [], mended: 0, wrongType: [] });
    expect(await redis.hgetall(k.readyByLevel)).toEqual({ low: '1125', normal: '1125', high: '1125', critical: '1125' });
  });
});
