import { Inject, Injectable } from '@nestjs/common';
import { KeyLayout, MISSION_HASH_FIELDS, MissionStore, readMissionFields } from '@app/event-store';
import { cursorBinding, Mission, timeBoundMs } from '@app/mission';
import { membersAfter, RedisConnection, scoreBound } from '@app/redis';
import { REDIS } from '@app/runtime';
import { ListMissionsQuery, MissionPage } from './list-missions.query';
import { decodeCursor, PageCursor, walkPartitions } from './page-cursor';

export interface DeadLetterEntry {
  missionId: string;
  type: Mission['type'];
  title: string;
  reason: string;
  attempts: number;
  lastError: string | null;
  deadLetteredAt: string;
}

/**
 * Reads for the API. Listing walks the creation indexes newest first and filters the states it
 * loads (one pipelined read per batch); the cursor marks where the walk stopped in each
 * partition, so pages are stable while new missions arrive.
 */
@Injectable()
export class MissionQueryService {
  constructor(
    @Inject(REDIS) private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
    private readonly store: MissionStore,
  ) {}

  /** Newest first over every log partition: a merge of the partitions' creation indexes (walkPartitions). */
  async list(query: ListMissionsQuery): Promise<MissionPage<Mission>> {
    const end = scoreBound(query.createdFrom ? timeBoundMs(query.createdFrom) : -Infinity);
    const start: PageCursor = { score: query.createdTo ? timeBoundMs(query.createdTo) - 1 : Infinity, member: null };
    const binding = missionListBinding(query);
    const cursors = query.cursor ? decodeCursor(query.cursor, this.keys.partitions.length, Infinity, binding) : this.keys.partitions.map(() => ({ ...start }));
    return walkPartitions(cursors, {
      order: 'desc',
      binding,
      read: (index, cursor, count) => membersAfter(this.redis, this.keys.partitions[index].missionIndex, cursor, { order: 'desc', end, limit: count }),
      load: (ids) => this.loadMany(ids),
      matches: (mission) => matches(mission, query),
      limit: query.limit ?? 50,
    });
  }

  /** Oldest first over every partition's dead-letter queue, each with the reason its event records. */
  async deadLetters(limit: number, offset = 0): Promise<DeadLetterEntry[]> {
    const entries = await this.deadLetterEntries(limit, offset);
    const reasons = await Promise.all(entries.map((entry) => this.deadLetteredReason(entry.missionId)));
    return entries.map((entry, i) => ({ ...entry, reason: reasons[i] ?? 'dead-lettered' }));
  }

  /** Oldest first over every partition's dead-letter queue, from the read model only (no reasons: no log read). */
  async deadLetterEntries(limit: number, offset = 0): Promise<Omit<DeadLetterEntry, 'reason'>[]> {
    // Redis refuses an end past 64 bits, which a client's offset may be: no queue is that long anyway.
    const end = Math.min(offset + limit, Number.MAX_SAFE_INTEGER) - 1;
    const perPartition = await Promise.all(this.keys.partitions.map((partition) => this.redis.zrange(partition.deadLetters, 0, end, 'WITHSCORES')));
    const entries = perPartition
      .flatMap((flat) => flat.filter((_, i) => i % 2 === 0).map((id, i) => ({ id, at: Number(flat[i * 2 + 1]) })))
      .sort((a, b) => a.at - b.at || a.id.localeCompare(b.id))
      .slice(offset, offset + limit);
    const missions = await this.loadMany(entries.map((entry) => entry.id));
    return missions.flatMap((mission, i) =>
      mission
        ? [
            {
              missionId: mission.id,
              type: mission.type,
              title: mission.title,
              attempts: mission.attempts,
              lastError: mission.lastError,
              deadLetteredAt: new Date(entries[i].at).toISOString(),
            },
          ]
        : [],
    );
  }

  /**
   * The reason its last MissionDeadLettered records ("permanent failure: …", "failed 3 of 3
   * attempts", "rejected in 2 of 2 review rounds"): the state keeps none, and rebuilding one from
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

  async loadMany(ids: readonly string[]): Promise<(Mission | null)[]> {
    const states = await readMissionFields(this.redis, this.keys, ids, MISSION_HASH_FIELDS.state);
    return states.map((json) => (json === null ? null : (JSON.parse(json) as Mission)));
  }
}

/** The filters of a mission list as matches() and the walk's bounds read them: a page's cursor is bound to them. */
function missionListBinding(query: ListMissionsQuery): string {
  return cursorBinding('GET /api/missions', {
    status: query.status,
    type: query.type,
    priority: query.priority,
    agentId: query.agentId,
    title: query.title?.toLowerCase(),
    createdFrom: query.createdFrom ? timeBoundMs(query.createdFrom) : undefined,
    createdTo: query.createdTo ? timeBoundMs(query.createdTo) : undefined,
  });
}

function matches(mission: Mission, query: ListMissionsQuery): boolean {
  return (
    (!query.title || mission.title.toLowerCase().includes(query.title.toLowerCase())) &&
    (!query.status || mission.status === query.status) &&
    (!query.type || mission.type === query.type) &&
    (!query.priority || mission.priority === query.priority) &&
    (!query.agentId || mission.assignedAgentId === query.agentId || mission.previousAgentIds.includes(query.agentId))
  );
}
