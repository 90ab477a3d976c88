import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { KeyLayout, MISSION_HASH_FIELDS, PartitionKeys, readMissionFields } from '@app/event-store';
import { attemptsSinceRequeue, Mission } from '@app/mission';
import { RedisConnection } from '@app/redis';
import { REDIS } from '@app/runtime';
import { ListMissionsQuery, MissionPage } from './list-missions.query';

/** How many index entries one list request reads at most, so a rare filter can't scan the world. */
const MAX_SCANNED_PER_REQUEST = 5_000;
const SCAN_BATCH = 200;

interface IndexEntry {
  id: string;
  score: number;
  mission: Mission | null;
}

interface Cursor {
  /** created-at score of the last entry returned */
  s: number;
  /** how many entries with that score were already passed */
  k: number;
}

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
  ) {}

  /**
   * Newest first over every log partition: a merge of the partitions' creation indexes, each read
   * in batches from its own cursor, with the states loaded per batch.
   */
  async list(query: ListMissionsQuery): Promise<MissionPage<Mission>> {
    const limit = query.limit ?? 50;
    const from = query.createdFrom ? Date.parse(query.createdFrom) : -Infinity;
    const start: Cursor = { s: query.createdTo ? Date.parse(query.createdTo) - 1 : Infinity, k: 0 };
    const cursors = query.cursor ? decodeCursor(query.cursor, this.keys.partitions.length) : this.keys.partitions.map(() => ({ ...start }));
    const lanes = this.keys.partitions.map((partition, index) => ({ partition, cursor: cursors[index], buffer: [] as IndexEntry[], exhausted: false }));
    const items: Mission[] = [];
    let scanned = 0;
    while (items.length < limit && scanned < MAX_SCANNED_PER_REQUEST) {
      await Promise.all(lanes.filter((lane) => lane.buffer.length === 0 && !lane.exhausted).map((lane) => this.refill(lane, from)));
      const lane = lanes.reduce<(typeof lanes)[number] | null>(
        (best, candidate) => (candidate.buffer.length > 0 && (!best || candidate.buffer[0].score > best.buffer[0].score) ? candidate : best),
        null,
      );
      if (!lane) return { items };
      const entry = lane.buffer.shift() as IndexEntry;
      scanned += 1;
      lane.cursor = entry.score === lane.cursor.s ? { s: lane.cursor.s, k: lane.cursor.k + 1 } : { s: entry.score, k: 1 };
      if (entry.mission && matches(entry.mission, query)) items.push(entry.mission);
    }
    return { items, nextCursor: encodeCursor(lanes.map((lane) => lane.cursor)) };
  }

  /** The next batch of one partition's index below its cursor, with the missions' states. */
  private async refill(lane: { partition: PartitionKeys; cursor: Cursor; buffer: IndexEntry[]; exhausted: boolean }, from: number): Promise<void> {
    const entries = await this.redis.zrange(
      lane.partition.missionIndex,
      scoreArg(lane.cursor.s),
      scoreArg(from),
      'BYSCORE',
      'REV',
      'LIMIT',
      lane.cursor.k,
      SCAN_BATCH,
      'WITHSCORES',
    );
    const ids = entries.filter((_, i) => i % 2 === 0);
    const states = await this.loadMany(ids);
    lane.buffer = ids.map((id, i) => ({ id, score: Number(entries[i * 2 + 1]), mission: states[i] }));
    lane.exhausted = ids.length < SCAN_BATCH;
  }

  /** Oldest first over every partition's dead-letter queue. */
  async deadLetters(limit: number, offset = 0): Promise<DeadLetterEntry[]> {
    const perPartition = await Promise.all(
      this.keys.partitions.map((partition) => this.redis.zrange(partition.deadLetters, 0, offset + limit - 1, 'WITHSCORES')),
    );
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
              reason: `failed ${attemptsSinceRequeue(mission)} attempts`,
              attempts: mission.attempts,
              lastError: mission.lastError,
              deadLetteredAt: new Date(entries[i].at).toISOString(),
            },
          ]
        : [],
    );
  }

  async loadMany(ids: readonly string[]): Promise<(Mission | null)[]> {
    const states = await readMissionFields(this.redis, this.keys, ids, MISSION_HASH_FIELDS.state);
    return states.map((json) => (json === null ? null : (JSON.parse(json) as Mission)));
  }
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

function scoreArg(score: number): string {
  return score === Infinity ? '+inf' : score === -Infinity ? '-inf' : String(score);
}

/** One cursor per log partition. */
function encodeCursor(cursors: Cursor[]): string {
  return Buffer.from(JSON.stringify(cursors)).toString('base64url');
}

/**
 * Only a cursor this API issued: the exact bytes encodeCursor writes for one entry per partition,
 * each a whole millisecond score (null for a partition not read yet: JSON has no Infinity) and a
 * count of entries passed. Anything else, such as a forged `k` of 1e21 that Redis would refuse as
 * a LIMIT offset, is a 400.
 */
function decodeCursor(raw: string, partitions: number): Cursor[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const valid = (cursor: unknown): cursor is { s: number | null; k: number } => {
    if (typeof cursor !== 'object' || cursor === null || Object.keys(cursor).join() !== 's,k') return false;
    const { s, k } = cursor as Record<string, unknown>;
    return (s === null || Number.isSafeInteger(s)) && Number.isSafeInteger(k) && (k as number) >= 0;
  };
  if (Array.isArray(parsed) && parsed.length === partitions && parsed.every(valid) && encodeCursor(parsed as Cursor[]) === raw) {
    return parsed.map((cursor) => ({ s: cursor.s ?? Infinity, k: cursor.k }));
  }
  throw new BadRequestException('cursor is not a cursor this API issued');
}
