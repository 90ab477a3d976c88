import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  KeyLayout,
  MISSION_HASH_FIELDS,
  MissionStore,
  parseStoredMission,
  readMissionFieldSets,
  readMissionStates,
  UnreadableStoredDataError,
} from '@app/event-store';
import {
  cursorBinding,
  DeadLetterEntry,
  isUnreadableMission,
  Mission,
  MissionPage,
  timeBoundMs,
  UNAVAILABLE_MARKER,
  UnreadableMission,
  unreadableMission,
} from '@app/mission';
import { membersAfter, RedisConnection, scoreBound } from '@app/redis';
import { REDIS } from '@app/runtime';
import { ApiClient, ApiKeyStore, seesMission } from '../auth';
import { toErrorBody } from '../http/error-body.filter';
import { ListMissionsQuery } from './list-missions.query';
import { decodeCursor, PageCursor, walkPartitions } from './page-cursor';

/** What the keys that seal a client's list cursors are derived for (ApiKeyStore.signingKeys). */
const CURSOR_KEY_PURPOSE = 'brain page cursor v1';

/** Missions whose unreadable state the log names at most, so a log changed in bulk does not flood it. */
const MAX_LOGGED_UNREADABLE = 1_000;

/**
 * Reads for the API. Listing walks the creation indexes newest first and filters the states it
 * loads (one pipelined read per batch); the cursor marks where the walk stopped in each
 * partition, so pages are stable while new missions arrive.
 */
@Injectable()
export class MissionQueryService {
  private readonly logger = new Logger(MissionQueryService.name);
  /** Missions whose state a list met unreadable: each logged once. */
  private readonly loggedUnreadable = new Set<string>();

  constructor(
    @Inject(REDIS) private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
    private readonly store: MissionStore,
    private readonly apiKeys: ApiKeyStore,
  ) {}

  /**
   * Newest first over every log partition: a merge of the partitions' creation indexes
   * (walkPartitions). A client key's list holds only the missions it sees (seesMission), filtered
   * in the walk like any other filter, so its pages and cursors hold as for any rare filter. Its
   * cursors are sealed: where its walk stopped is often a mission of another key.
   */
  async list(query: ListMissionsQuery, caller: ApiClient): Promise<MissionPage<Mission | UnreadableMission>> {
    const end = scoreBound(query.createdFrom ? timeBoundMs(query.createdFrom) : -Infinity);
    const start: PageCursor = { score: query.createdTo ? timeBoundMs(query.createdTo) - 1 : Infinity, member: null };
    const binding = missionListBinding(query, caller);
    const cursorKeys = this.apiKeys.clientSealingKeys(caller, CURSOR_KEY_PURPOSE);
    const cursors = query.cursor
      ? decodeCursor(query.cursor, this.keys.partitions.length, Infinity, binding, cursorKeys)
      : this.keys.partitions.map(() => ({ ...start }));
    return walkPartitions(cursors, {
      order: 'desc',
      binding,
      cursorKeys,
      read: (index, cursor, count) => membersAfter(this.redis, this.keys.partitions[index].missionIndex, cursor, { order: 'desc', end, limit: count }),
      load: (ids) => this.loadListed(ids),
      matches: (item) => (isUnreadableMission(item) ? listsUnreadable(query, caller) : matches(item, query) && seesMission(caller, item)),
      limit: query.limit ?? 50,
    });
  }

  /**
   * Oldest first over every partition's dead-letter queue, each with its reason; `offset` counts
   * entries, so a dead letter removed before the next page shifts the later ones up and that page
   * misses as many (deadLetterPage pages by cursor instead).
   */
  async deadLetters(limit: number, offset = 0): Promise<DeadLetterEntry[]> {
    const oldest = await this.oldestDeadLetters(limit, offset);
    const loaded = await this.loadDeadLetters(
      oldest.map((entry) => entry.id),
      oldest.map((entry) => entry.at),
      () => true,
    );
    return this.withReasons(loaded.flatMap((entry) => (entry ? [entry] : [])));
  }

  /**
   * One page of the dead letters, oldest first, each with its reason. The cursor names the last
   * entry passed in each partition (its score, the time it was dead-lettered, and its id), so an
   * entry requeued, cancelled or removed by retention between two pages moves no other one past it.
   */
  async deadLetterPage(limit: number, cursor?: string): Promise<MissionPage<DeadLetterEntry>> {
    const binding = cursorBinding('GET /api/dlq', {});
    const cursors = cursor
      ? decodeCursor(cursor, this.keys.partitions.length, -Infinity, binding)
      : this.keys.partitions.map(() => ({ score: -Infinity, member: null }));
    const page = await walkPartitions(cursors, {
      order: 'asc',
      binding,
      read: (index, place, count) => membersAfter(this.redis, this.keys.partitions[index].deadLetters, place, { order: 'asc', end: '+inf', limit: count }),
      // One that left the dead letters between the read of the set and the load of its state is not shown.
      load: (ids, scores) => this.loadDeadLetters(ids, scores, (mission) => mission.status === 'dead_lettered'),
      matches: () => true,
      limit,
      // Every dead letter matches: a page and the one past it take about as many from each partition,
      // so no partition's batch loads dead letters the page does not show.
      batch: Math.ceil((limit + 1) / this.keys.partitions.length),
    });
    return { ...page, items: await this.withReasons(page.items) };
  }

  /** Oldest first over every partition's dead-letter queue, from the read model only (no reasons). */
  async deadLetterEntries(limit: number, offset = 0): Promise<Omit<DeadLetterEntry, 'reason'>[]> {
    const oldest = await this.oldestDeadLetters(limit, offset);
    const missions = await this.loadMany(oldest.map((entry) => entry.id));
    return missions.flatMap((mission, i) => (mission ? [deadLetterEntryOf(mission, oldest[i].at)] : []));
  }

  /** The ids in the dead-letter queues, with when each was dead-lettered, oldest first over every partition. */
  private async oldestDeadLetters(limit: number, offset: number): Promise<{ id: string; at: number }[]> {
    // Redis refuses an end past 64 bits, which a client's offset may be: no queue is that long anyway.
    const end = Math.min(offset + limit, Number.MAX_SAFE_INTEGER) - 1;
    const perPartition = await Promise.all(this.keys.partitions.map((partition) => this.redis.zrange(partition.deadLetters, 0, end, 'WITHSCORES')));
    return perPartition
      .flatMap((flat) => flat.filter((_, i) => i % 2 === 0).map((id, i) => ({ id, at: Number(flat[i * 2 + 1]) })))
      .sort((a, b) => a.at - b.at || a.id.localeCompare(b.id))
      .slice(offset, offset + limit);
  }

  /**
   * The dead letters of `ids` (`scores` when each was dead-lettered) whose state `keep` takes, each
   * with the reason its hash keeps (MISSION_HASH_FIELDS.deadLetterReason): state and reason in one
   * read per mission, pipelined. Null for a mission gone or not kept.
   */
  private async loadDeadLetters(
    ids: readonly string[],
    scores: readonly number[],
    keep: (mission: Mission) => boolean,
  ): Promise<(DeadLetterWithKeptReason | null)[]> {
    const fields = await readMissionFieldSets(this.redis, this.keys, ids, [MISSION_HASH_FIELDS.state, MISSION_HASH_FIELDS.deadLetterReason]);
    return fields.map(([json, reason], i) => {
      const mission = json === null ? null : this.readable(ids[i], json);
      return mission && keep(mission) ? { ...deadLetterEntryOf(mission, scores[i]), reason } : null;
    });
  }

  /** The reason each keeps, or, for one dead-lettered before reasons were kept, the one its log records. */
  private async withReasons(entries: DeadLetterWithKeptReason[]): Promise<DeadLetterEntry[]> {
    const reasons = await Promise.all(entries.map((entry) => entry.reason ?? this.deadLetteredReason(entry.missionId)));
    return entries.map((entry, i) => ({ ...entry, reason: reasons[i] ?? 'dead-lettered' }));
  }

  /**
   * The reason its last MissionDeadLettered records ("permanent failure: …", "failed 3 of 3
   * attempts", "rejected in 2 of 2 review rounds"), for a dead letter whose hash keeps none (one
   * dead-lettered before the reason was kept there): the state keeps none, and rebuilding one from
   * the state said less, and sometimes something else. Null when it cannot be read: the list
   * still shows the dead letter (the log's own check, `replay verify`, names a broken event).
   */
  private async deadLetteredReason(missionId: string): Promise<string | null> {
    try {
      return (await this.store.lastEventOfType(missionId, 'MissionDeadLettered'))?.data.reason ?? null;
    } catch {
      return null;
    }
  }

  /**
   * The missions of `ids`, null for one gone or whose state cannot be read: the lists by status
   * (dead letters, the review inbox) cannot tell that one is theirs, and leave it out rather than
   * fail (GET /api/missions lists it, `replay verify` names it).
   */
  async loadMany(ids: readonly string[]): Promise<(Mission | null)[]> {
    return (await this.loadListed(ids)).map((item) => (item && !isUnreadableMission(item) ? item : null));
  }

  /** The missions of `ids` as GET /api/missions lists them: one whose state cannot be read as an UnreadableMission, named in the log once. */
  async loadListed(ids: readonly string[]): Promise<(Mission | UnreadableMission | null)[]> {
    const states = await readMissionStates(this.redis, this.keys, ids);
    return states.map((state) => (state instanceof UnreadableStoredDataError ? this.unreadable(state) : state));
  }

  private readable(missionId: string, json: string): Mission | null {
    try {
      return parseStoredMission(missionId, json);
    } catch (error) {
      if (!(error instanceof UnreadableStoredDataError)) throw error;
      this.unreadable(error);
      return null;
    }
  }

  private unreadable(error: UnreadableStoredDataError): UnreadableMission {
    const message = toErrorBody(error).message;
    if (!this.loggedUnreadable.has(error.missionId) && this.loggedUnreadable.size < MAX_LOGGED_UNREADABLE) {
      this.loggedUnreadable.add(error.missionId);
      this.logger.warn(`a list met ${message}; it is listed as ${UNAVAILABLE_MARKER}`);
    }
    return unreadableMission(error.missionId, message);
  }
}

/** A dead letter with the reason its mission hash keeps, null when it keeps none (dead-lettered before it did). */
type DeadLetterWithKeptReason = Omit<DeadLetterEntry, 'reason'> & { reason: string | null };

/** A dead letter as the lists show it, `at` its score in the dead-letter queue (when it was dead-lettered). */
function deadLetterEntryOf(mission: Mission, at: number): Omit<DeadLetterEntry, 'reason'> {
  return {
    missionId: mission.id,
    type: mission.type,
    title: mission.title,
    attempts: mission.attempts,
    lastError: mission.lastError,
    deadLetteredAt: new Date(at).toISOString(),
  };
}

/**
 * The filters of a mission list as matches() and the walk's bounds read them: a page's cursor is
 * bound to them. A client key's cursor is bound to its name too (the missions it sees), so no
 * other key's cursor passes as its own; any other key's binding is as it always was.
 */
function missionListBinding(query: ListMissionsQuery, caller: ApiClient): string {
  return cursorBinding('GET /api/missions', {
    createdBy: caller.role === 'client' ? caller.name : undefined,
    status: query.status,
    type: query.type,
    priority: query.priority,
    agentId: query.agentId,
    title: query.title?.toLowerCase(),
    createdFrom: query.createdFrom ? timeBoundMs(query.createdFrom) : undefined,
    createdTo: query.createdTo ? timeBoundMs(query.createdTo) : undefined,
  });
}

/**
 * Whether a list shows a mission whose state cannot be read: nothing of it is known, so it matches
 * no filter on what it is (a time range is its index's), and a client key, which sees only the
 * missions it created, cannot be shown that it is one of them.
 */
function listsUnreadable(query: ListMissionsQuery, caller: ApiClient): boolean {
  return caller.role !== 'client' && !query.title && !query.status && !query.type && !query.priority && !query.agentId;
}

function matches(mission: Mission, query: ListMissionsQuery): boolean {
  return (
    // NFC: an accent sent decomposed (`Tu\u0308r`) is the same text as one sent composed (`Tür`).
    (!query.title || mission.title.toLowerCase().normalize('NFC').includes(query.title.toLowerCase().normalize('NFC'))) &&
    (!query.status || mission.status === query.status) &&
    (!query.type || mission.type === query.type) &&
    (!query.priority || mission.priority === query.priority) &&
    (!query.agentId || mission.assignedAgentId === query.agentId || mission.previousAgentIds.includes(query.agentId))
  );
}
