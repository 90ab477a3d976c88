import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { Mission } from '@app/mission';
import { REDIS } from '@app/runtime';
import { ListMissionsQuery, MissionPage } from './list-missions.query';

/** How many index entries one list request reads at most, so a rare filter can't scan the world. */
const MAX_SCANNED_PER_REQUEST = 5_000;
const SCAN_BATCH = 200;

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
 * Reads for the API. Listing walks the creation index newest first and filters the states it
 * loads (one pipelined read per batch); the cursor marks where the walk stopped, so pages are
 * stable while new missions arrive.
 */
@Injectable()
export class MissionQueryService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: KeyLayout,
  ) {}

  async list(query: ListMissionsQuery): Promise<MissionPage<Mission>> {
    const limit = query.limit ?? 50;
    const from = query.createdFrom ? Date.parse(query.createdFrom) : -Infinity;
    let cursor = query.cursor ? decodeCursor(query.cursor) : { s: query.createdTo ? Date.parse(query.createdTo) - 1 : Infinity, k: 0 };
    const items: Mission[] = [];
    let scanned = 0;
    while (items.length < limit && scanned < MAX_SCANNED_PER_REQUEST) {
      const entries = await this.redis.zrange(
        this.keys.missionIndex, scoreArg(cursor.s), scoreArg(from), 'BYSCORE', 'REV', 'LIMIT', cursor.k, SCAN_BATCH, 'WITHSCORES',
      );
      if (entries.length === 0) return { items };
      const ids: string[] = [];
      const scores: number[] = [];
      for (let i = 0; i < entries.length; i += 2) {
        ids.push(entries[i]);
        scores.push(Number(entries[i + 1]));
      }
      const states = await this.loadMany(ids);
      for (let i = 0; i < ids.length; i++) {
        scanned += 1;
        cursor = scores[i] === cursor.s ? { s: cursor.s, k: cursor.k + 1 } : { s: scores[i], k: 1 };
        const mission = states[i];
        if (mission && matches(mission, query)) items.push(mission);
        if (items.length === limit) break;
      }
      if (ids.length < SCAN_BATCH && items.length < limit) return { items };
    }
    return { items, nextCursor: encodeCursor(cursor) };
  }

  async deadLetters(limit: number, offset = 0): Promise<DeadLetterEntry[]> {
    const entries = await this.redis.zrange(this.keys.deadLetters, offset, offset + limit - 1, 'WITHSCORES');
    const ids = entries.filter((_, i) => i % 2 === 0);
    const missions = await this.loadMany(ids);
    return missions.flatMap((mission, i) =>
      mission
        ? [{
            missionId: mission.id,
            type: mission.type,
            title: mission.title,
            reason: `failed ${mission.attempts} attempts`,
            attempts: mission.attempts,
            lastError: mission.lastError,
            deadLetteredAt: new Date(Number(entries[i * 2 + 1])).toISOString(),
          }]
        : [],
    );
  }

  async loadMany(ids: readonly string[]): Promise<(Mission | null)[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.mission(id), 's');
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, json]) => {
      if (error) throw error;
      return typeof json === 'string' ? (JSON.parse(json) as Mission) : null;
    });
  }
}

function matches(mission: Mission, query: ListMissionsQuery): boolean {
  return (
    (!query.status || mission.status === query.status) &&
    (!query.type || mission.type === query.type) &&
    (!query.priority || mission.priority === query.priority) &&
    (!query.agentId || mission.assignedAgentId === query.agentId || mission.previousAgentIds.includes(query.agentId))
  );
}

function scoreArg(score: number): string {
  return score === Infinity ? '+inf' : score === -Infinity ? '-inf' : String(score);
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
    if (typeof cursor.s === 'number' && Number.isInteger(cursor.k) && cursor.k >= 0) return cursor;
  } catch {
    // falls through to the error below
  }
  throw new BadRequestException('cursor is not a cursor this API issued');
}
