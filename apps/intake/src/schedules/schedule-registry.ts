import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { KeyLayout } from '@app/event-store';
import { LuaScript, luaEnum, RedisConnection } from '@app/redis';
import { evolveSchedule, FiredMission, ScheduleDefinition, ScheduleEvent, ScheduleRecord, SkippedDueTimes } from './schedule-events';
import { nextDueOf } from './schedule-timing';

/** Result codes of append-schedule-events-4.lua. */
enum ScheduleAppendCode {
  Ok = 0,
  VersionConflict = 1,
}

const appendScript = new LuaScript(join(__dirname, 'lua'), 'append-schedule-events-4', { constants: { CODE: luaEnum(ScheduleAppendCode) } });

export class ScheduleVersionConflictError extends Error {
  constructor(readonly scheduleId: string) {
    super(`schedule ${scheduleId} was changed concurrently; reload and retry`);
    this.name = 'ScheduleVersionConflictError';
  }
}

/**
 * Recurring-mission schedules as event-sourced records, as agents are: each schedule has its own
 * event stream; the record hash, the versions and the due set (live schedules by next due time)
 * follow every append, which lands only at the version it was decided on.
 */
export class ScheduleRegistry {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
  ) {}

  /** A new schedule's id: made before its create, as its `H` fields are validated with it (scheduleTimingProblem). */
  newId(): string {
    return uuidv7();
  }

  create(scheduleId: string, definition: ScheduleDefinition, actor: string, now = new Date()): Promise<ScheduleRecord> {
    return this.append(null, [{ type: 'ScheduleCreated', scheduleId, at: now.toISOString(), actor, data: definition }]);
  }

  /**
   * ScheduleDeleted at the version of `record`, after ScheduleFired when `createdFirst` names the
   * mission a firing of that version created and did not record yet: the same append, so no
   * mission of the schedule is left out of its events.
   */
  delete(record: ScheduleRecord, createdFirst: FiredMission | null, actor: string, now = new Date()): Promise<ScheduleRecord> {
    const at = now.toISOString();
    const fired: ScheduleEvent[] = createdFirst ? [{ type: 'ScheduleFired', scheduleId: record.id, at, actor, data: createdFirst }] : [];
    return this.append(record, [...fired, { type: 'ScheduleDeleted', scheduleId: record.id, at, actor, data: {} }]);
  }

  /** ScheduleFired at the version of `record`, the one the firing was decided on. */
  fired(record: ScheduleRecord, data: FiredMission, actor: string, now: Date): Promise<ScheduleRecord> {
    return this.append(record, [{ type: 'ScheduleFired', scheduleId: record.id, at: now.toISOString(), actor, data }]);
  }

  /** ScheduleSkipped at the version of `record`, the one the skip was decided on. */
  skipped(record: ScheduleRecord, data: SkippedDueTimes, actor: string, now: Date): Promise<ScheduleRecord> {
    return this.append(record, [{ type: 'ScheduleSkipped', scheduleId: record.id, at: now.toISOString(), actor, data }]);
  }

  async record(scheduleId: string): Promise<ScheduleRecord | null> {
    const json = await this.redis.hget(this.keys.schedules, scheduleId);
    return json ? (JSON.parse(json) as ScheduleRecord) : null;
  }

  async list(): Promise<ScheduleRecord[]> {
    const records = (await this.redis.hvals(this.keys.schedules)).map((json) => JSON.parse(json) as ScheduleRecord);
    return records.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** How many schedules are live. */
  count(): Promise<number> {
    return this.redis.hlen(this.keys.schedules);
  }

  /**
   * Puts a live schedule back at its next due time in the due set, never earlier than it is: for
   * one found due with nothing due (a score drawn before `H` fields were seeded). Only moves a
   * member (XX): a schedule deleted meanwhile stays out.
   */
  async rescore(record: ScheduleRecord): Promise<void> {
    const nextDue = nextDueOf(record);
    if (nextDue) await this.redis.zadd(this.keys.schedulesDue, 'XX', nextDue.getTime(), record.id);
  }

  /** Live schedules due at `now` (their next due time has come), at most `limit`. */
  due(now: Date, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.schedulesDue, '-inf', now.getTime(), 'LIMIT', 0, limit);
  }

  /** The schedule's events, oldest first. */
  async history(scheduleId: string): Promise<ScheduleEvent[]> {
    const entries = (await this.redis.xrange(this.keys.scheduleLog(scheduleId), '-', '+')) as [string, string[]][];
    return entries.map(([, fields]) => JSON.parse(fields[1]) as ScheduleEvent);
  }

  /** Appends `events` (at least one) at the version of `record` (null to create). */
  private async append(record: ScheduleRecord | null, events: readonly ScheduleEvent[]): Promise<ScheduleRecord> {
    const next = events.reduce<ScheduleRecord | null>(evolveSchedule, record);
    if (!next) throw new Error('a schedule append needs at least one event');
    const nextDue = nextDueOf(next);
    const keys = [this.keys.schedules, this.keys.scheduleVersions, this.keys.scheduleLog(next.id), this.keys.schedulesDue];
    const args = [
      next.id,
      record?.version ?? 0,
      next.deletedAt ? '' : JSON.stringify(next),
      nextDue ? nextDue.getTime() : '',
      ...events.map((event) => JSON.stringify(event)),
    ];
    const [code] = (await appendScript.run(this.redis, keys, args)) as [ScheduleAppendCode, string];
    if (code !== ScheduleAppendCode.Ok) throw new ScheduleVersionConflictError(next.id);
    return next;
  }
}
