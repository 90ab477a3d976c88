import { KeyLayout, PartitionKeys } from '@app/event-store';
import { AGENT_HOLDING_STATUSES, MissionStatus, TERMINAL_STATUSES } from '@app/mission';
import { RedisConnection } from '@app/redis';

export type QueuePlace = 'ready' | 'leased' | 'with-agent' | 'terminal' | 'dead-letters' | 'scheduled' | 'review-inbox';

/** Reads the index, the queue sets (ready, leased, dead letters, scheduled, backoff, review inbox), every status and the ready queues and counts per skill set in one atomic step: a consistent picture. */
const SNAPSHOT = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local statuses = {}
for i, id in ipairs(ids) do statuses[i] = redis.call('HGET', ARGV[1] .. id, 'st') or '' end
local ready = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
local readyIds, readySkills, misplaced = {}, {}, {}
for i = 1, #ready, 2 do
  local id = ready[i]
  local skills = redis.call('HGET', ARGV[1] .. id, 'sk') or ''
  readyIds[#readyIds + 1] = id
  readySkills[#readySkills + 1] = skills
  if redis.call('ZSCORE', ARGV[2] .. skills, id) ~= ready[i + 1] then misplaced[#misplaced + 1] = id end
end
local bySkills = redis.call('HGETALL', KEYS[5])
local perSetSizes = {}
for s = 1, #bySkills, 2 do perSetSizes[#perSetSizes + 1] = redis.call('ZCARD', ARGV[2] .. bySkills[s]) end
local waiting = redis.call('ZRANGE', KEYS[6], 0, -1)
for _, id in ipairs(redis.call('ZRANGE', KEYS[7], 0, -1)) do waiting[#waiting + 1] = id end
return { ids, statuses, readyIds, redis.call('ZRANGE', KEYS[3], 0, -1), redis.call('ZRANGE', KEYS[4], 0, -1), readySkills, bySkills, misplaced, perSetSizes, waiting, redis.call('ZRANGE', KEYS[8], 0, -1) }
`;

/**
 * Where each mission is, by the queue's own records. A mission must be in exactly one place:
 * the returned list names every mission that is in none or in several.
 */
export async function queueInvariantViolations(redis: RedisConnection, keys: KeyLayout): Promise<string[]> {
  const perPartition = await Promise.all(keys.partitions.map((partition) => partitionViolations(redis, partition)));
  return perPartition.flat();
}

/** One partition's snapshot is atomic (its keys share a hash slot); missions never change partition. */
async function partitionViolations(redis: RedisConnection, keys: PartitionKeys): Promise<string[]> {
  const [ids, statuses, ready, leased, dlq, readySkills, bySkillsFlat, misplaced, perSetSizes, waiting, inbox] = (await redis.eval(
    SNAPSHOT,
    8,
    keys.missionIndex,
    keys.ready,
    keys.leased,
    keys.deadLetters,
    keys.readyBySkills,
    keys.scheduled('delayed'),
    keys.scheduled('retry'),
    keys.awaitingReview,
    keys.missionPrefix,
    keys.readyWithSkillsPrefix,
  )) as [string[], string[], string[], string[], string[], string[], string[], string[], number[], string[], string[]];
  const sets = { ready: new Set(ready), leased: new Set(leased), dlq: new Set(dlq), scheduled: new Set(waiting), inbox: new Set(inbox) };
  const violations: string[] = [];
  // The lease script trusts the counts of ready missions per skill set: they must match the queue.
  const counted = new Map<string, number>();
  for (const skills of readySkills) counted.set(skills, (counted.get(skills) ?? 0) + 1);
  for (let i = 0; i + 1 < bySkillsFlat.length; i += 2) {
    const [skills, count] = [bySkillsFlat[i], Number(bySkillsFlat[i + 1])];
    if (count !== (counted.get(skills) ?? 0)) violations.push(`ready-by-skills "${skills}" counts ${count}, the queue holds ${counted.get(skills) ?? 0}`);
    if (perSetSizes[i / 2] !== count) violations.push(`the ready queue of skill set "${skills}" holds ${perSetSizes[i / 2]}, its count is ${count}`);
    counted.delete(skills);
  }
  for (const [skills, count] of counted) violations.push(`ready-by-skills "${skills}" missing, the queue holds ${count}`);
  for (const id of misplaced) violations.push(`${id} is ready but not in its skill set's ready queue with the same score`);
  ids.forEach((id, i) => {
    const status = statuses[i] as MissionStatus;
    const places: QueuePlace[] = [];
    if (sets.ready.has(id)) places.push('ready');
    if (sets.leased.has(id)) places.push('leased');
    if (sets.dlq.has(id)) places.push('dead-letters');
    if (sets.scheduled.has(id)) places.push('scheduled');
    if (sets.inbox.has(id)) places.push('review-inbox');
    if (AGENT_HOLDING_STATUSES.includes(status)) places.push('with-agent');
    if (TERMINAL_STATUSES.includes(status)) places.push('terminal');
    const statusAgrees =
      (status !== 'queued' || places.includes('ready') || places.includes('leased')) &&
      (status !== 'dead_lettered' || places.includes('dead-letters')) &&
      (status !== 'scheduled' || places.includes('scheduled')) &&
      (status === 'awaiting_review') === places.includes('review-inbox');
    if (places.length !== 1 || !statusAgrees) violations.push(`${id} (${status || 'no state'}): in ${places.join(', ') || 'nothing'}`);
  });
  return violations;
}
