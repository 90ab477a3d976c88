import { bytesToStoredEntry, parseStored, ReplayFold, sha1Hex, stateProblem } from '@app/audit';
import { KeyLayout, MISSION_HASH_FIELDS } from '@app/event-store';
import { execAllKeepingWrongType, RedisConnection, WRONG_TYPE_REPLY } from '@app/redis';

export interface MissionChainCheck {
  missionId: string;
  /**
   * True when every event links to the one before it, the mission's head names the last, and the
   * mission as stored (what GET /api/missions/:id and the console show) is the fold of its events.
   */
  verified: boolean;
  events: number;
  /** What is wrong, one line each; empty when verified. */
  problems: string[];
}

/**
 * Checks one mission's hash chain as stored: each event's `prevHash` is the SHA-1 of the stored
 * JSON of the event before it ('' for the first), versions count 1, 2, …, and the mission's head
 * (`h`) is the SHA-1 of its last event; and that the mission as stored (`s`, what the API and the
 * page show) is the fold of those events: an intact chain vouches for nothing shown from a read
 * model changed beside it. The whole-log check (links between missions, the log head, the rest of
 * the read model) is `replay verify`; this is the badge on one mission's page.
 */
export async function checkMissionChain(redis: RedisConnection, keys: KeyLayout, missionId: string): Promise<MissionChainCheck | undefined> {
  const partition = keys.of(missionId);
  // A key of another type (changed by hand) is a problem to show, not the badge's 500.
  const reads = redis.pipeline();
  reads.lrange(partition.missionEvents(missionId), 0, -1);
  reads.hmget(partition.mission(missionId), MISSION_HASH_FIELDS.lastEventHash, MISSION_HASH_FIELDS.version, MISSION_HASH_FIELDS.state);
  const [listed, hash] = await execAllKeepingWrongType(reads);
  const wrongType = [
    ...(listed === WRONG_TYPE_REPLY ? [`its key ${partition.missionEvents(missionId)} holds another type of value than a list`] : []),
    ...(hash === WRONG_TYPE_REPLY ? [`its key ${partition.mission(missionId)} holds another type of value than a hash`] : []),
  ];
  if (wrongType.length > 0) return { missionId, verified: false, events: 0, problems: wrongType };
  const ids = listed as string[];
  const [head, version, shown] = hash as (string | null)[];
  if (ids.length === 0) {
    // The mission is there, its list of events gone where it is stored: a broken chain, not an unknown mission.
    if (version === null) return undefined;
    return { missionId, verified: false, events: 0, problems: [`the mission's list of events is gone: it names none, the mission is at version ${version}`] };
  }
  const pipeline = redis.pipeline();
  // As bytes, as verify reads them: an event whose bytes are no UTF-8 is named, not decoded into another text.
  for (const id of ids) pipeline.xrangeBuffer(partition.log, id, id);
  const replies = (await pipeline.exec()) ?? [];
  const problems: string[] = [];
  let previous = '';
  // The events as read, folded as verify folds them; one missing, or another mission's, leaves nothing to compare with.
  const fold = new ReplayFold();
  let comparable = true;
  ids.forEach((id, index) => {
    const [error, entries] = replies[index] ?? [null, []];
    const [entry] = (error ? [] : entries) as [Buffer, Buffer[]][];
    if (!entry) {
      problems.push(`event ${index + 1} (log entry ${id}) is missing from the log`);
      previous = '';
      comparable = false;
      return;
    }
    const stored = bytesToStoredEntry(entry[0], entry[1]);
    const event = parseStored(stored.json);
    fold.add(stored, event);
    if (stored.missionId !== missionId || event?.missionId !== missionId) comparable = false;
    if (stored.malformed) problems.push(`event ${index + 1}: ${stored.malformed}`);
    if (!event) problems.push(`event ${index + 1} is not stored as JSON`);
    else {
      if (event.version !== index + 1) problems.push(`event ${index + 1} says version ${String(event.version)}`);
      if (event.missionId !== missionId) problems.push(`event ${index + 1} belongs to mission ${String(event.missionId)}`);
      if ((event.prevHash ?? '') !== previous) problems.push(`event ${index + 1} does not link to event ${index}: it was changed, or one before it was`);
    }
    previous = sha1Hex(stored.json);
  });
  // No head at all is as telling as a wrong one: `replay verify` names it too.
  if (head === null) problems.push('the mission has no head (the hash of its last event): it was removed where it is stored');
  else if (head !== previous) problems.push("the mission's head does not name its last event: an event was changed or removed at the end");
  if (comparable) problems.push(...shownProblems(fold, missionId, shown));
  return { missionId, verified: problems.length === 0, events: ids.length, problems };
}

/** Why the mission as stored (`s`) is not the fold of its events read: none when it is. */
function shownProblems(fold: ReplayFold, missionId: string, shown: string | null): string[] {
  const folded = fold.get(missionId);
  if (folded?.failure)
    return [`its events cannot be folded (event ${folded.failure.logId}: ${folded.failure.error}), so nothing vouches for the mission as shown`];
  if (!folded?.state) return [];
  const problem = stateProblem(shown, folded.state);
  return problem ? [`the mission as shown is not the fold of its events: ${problem}`] : [];
}
