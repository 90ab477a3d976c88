import { MissionCreateDto } from '@app/mission';

/** What POST /api/schedules records: when a schedule fires and what mission each firing creates. */
export interface ScheduleDefinition {
  /** Five-field cron expression (minute hour day-of-month month day-of-week). */
  cron: string;
  /** IANA time zone the cron expression is read in (DST included), e.g. Europe/Berlin. */
  timeZone: string;
  /** The body of the mission each firing creates, checked as POST /api/missions checks one. */
  template: MissionCreateDto;
  /** Missed firings older than this are skipped and counted; null = SCHEDULE_CATCH_UP_MS. */
  catchUpMs: number | null;
}

/** A schedule as folded from its events. */
export interface ScheduleRecord extends ScheduleDefinition {
  id: string;
  version: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  /** The last due time dealt with (fired or skipped); firing goes on after it. Null before the first. */
  lastDueAt: string | null;
  lastMissionId: string | null;
  /** Missions created, and due times skipped, over the schedule's life. */
  fired: number;
  skipped: number;
  /** Set by ScheduleDeleted: the schedule fires no more. */
  deletedAt?: string;
}

/** A due time and the mission its firing created: what ScheduleFired records. */
export interface FiredMission {
  dueAt: string;
  missionId: string;
}

/** Due times from `from` to `to` (`count` of them) that created no mission, and why: what ScheduleSkipped records. */
export interface SkippedDueTimes {
  count: number;
  from: string;
  to: string;
  reason: string;
}

export type ScheduleEvent =
  | { type: 'ScheduleCreated'; scheduleId: string; at: string; actor: string; data: ScheduleDefinition }
  | { type: 'ScheduleFired'; scheduleId: string; at: string; actor: string; data: FiredMission }
  | { type: 'ScheduleSkipped'; scheduleId: string; at: string; actor: string; data: SkippedDueTimes }
  | { type: 'ScheduleDeleted'; scheduleId: string; at: string; actor: string; data: Record<string, never> };

export class ScheduleNotFoundError extends Error {
  constructor(readonly scheduleId: string) {
    super(`schedule ${scheduleId} not found`);
    this.name = 'ScheduleNotFoundError';
  }
}

/** Folds one event into the schedule's record. */
export function evolveSchedule(record: ScheduleRecord | null, event: ScheduleEvent): ScheduleRecord {
  if (event.type === 'ScheduleCreated') {
    return {
      id: event.scheduleId,
      ...event.data,
      version: 1,
      createdAt: event.at,
      createdBy: event.actor,
      updatedAt: event.at,
      lastDueAt: null,
      lastMissionId: null,
      fired: 0,
      skipped: 0,
    };
  }
  if (!record || record.deletedAt) throw new ScheduleNotFoundError(event.scheduleId);
  const next = { ...record, version: record.version + 1, updatedAt: event.at };
  switch (event.type) {
    case 'ScheduleFired':
      return { ...next, lastDueAt: event.data.dueAt, lastMissionId: event.data.missionId, fired: record.fired + 1 };
    case 'ScheduleSkipped':
      return { ...next, lastDueAt: event.data.to, skipped: record.skipped + event.data.count };
    case 'ScheduleDeleted':
      return { ...next, deletedAt: event.at };
  }
}
