import type Redis from 'ioredis';

/** When each mission of a phase was created and when it passed evaluation, from the log's `at` timestamps. */
export interface MissionTimes {
  /** ms since the epoch (from `at`, which has ms resolution). */
  created: Map<string, number>;
  /** The MissionEvaluated whose data.passed is true. */
  passed: Map<string, number>;
  /** Events of the phase's missions seen in the scanned range. */
  events: number;
  /** Log entries scanned (all missions). */
  scanned: number;
}

const BATCH = 10_000;
const CREATED = '"type":"MissionCreated"';
const EVALUATED = '"type":"MissionEvaluated"';

/** Id of the newest log entry, '0-0' for an empty log: a phase reads from just after it. */
export async function logTail(redis: Redis, log: string): Promise<string> {
  const last = (await redis.xrevrange(log, '+', '-', 'COUNT', 1)) as [string, string[]][];
  return last.length > 0 ? last[0][0] : '0-0';
}

/**
 * Reads the log after `afterId` with XRANGE in batches (once, at the end of a phase, instead of
 * polling every mission) and picks the two events that bound a mission's way through the system.
 * Only events that mention one of those two types are parsed.
 */
export async function scanMissionTimes(redis: Redis, log: string, afterId: string, missionIds: ReadonlySet<string>): Promise<MissionTimes> {
  const times: MissionTimes = { created: new Map(), passed: new Map(), events: 0, scanned: 0 };
  let start = afterId === '0-0' ? '-' : `(${afterId}`;
  for (;;) {
    const entries = (await redis.xrange(log, start, '+', 'COUNT', BATCH)) as [string, string[]][];
    for (const [, fields] of entries) {
      times.scanned += 1;
      let missionId = '';
      let json = '';
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i] === 'm') missionId = fields[i + 1];
        else if (fields[i] === 'e') json = fields[i + 1];
      }
      if (!missionIds.has(missionId)) continue;
      times.events += 1;
      if (!json.includes(CREATED) && !json.includes(EVALUATED)) continue;
      const event = JSON.parse(json) as { type: string; at: string; data?: { passed?: boolean } };
      if (event.type === 'MissionCreated') times.created.set(missionId, Date.parse(event.at));
      else if (event.type === 'MissionEvaluated' && event.data?.passed === true) times.passed.set(missionId, Date.parse(event.at));
    }
    if (entries.length < BATCH) return times;
    start = `(${entries[entries.length - 1][0]}`;
  }
}
