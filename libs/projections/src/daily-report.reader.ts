import { MISSION_TYPES, MissionType } from '@app/mission';
import { RedisConnection } from '@app/redis';
import { DAILY_REPORT_METRICS, DailyReportMetric, DailyReportProjection } from './daily-report.projection';
import { projectionLag } from './projection-checkpoints';

/** One UTC day of one mission type. */
export interface DailyReportRow {
  day: string;
  type: MissionType;
  created: number;
  attempts: number;
  failedAttempts: number;
  evaluations: number;
  /** Mean evaluation score of the day's evaluations; null when there were none. */
  meanScore: number | null;
  succeeded: number;
  deadLettered: number;
  requeued: number;
  cancelled: number;
  reviewsRequested: number;
  approved: number;
  /** Approvals that replaced the agent's output with the reviewer's edit. */
  edited: number;
  rejected: number;
  reviewsOverdue: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export interface DailyReport {
  from: string;
  to: string;
  /** Every day of the range (oldest first) for every type asked for, zeros included. */
  rows: DailyReportRow[];
  /** Log entries the projection has not applied yet: 0 means the report is up to date. */
  lagEvents: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** UTC days from `from` to `to` (YYYY-MM-DD, both included). */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** Reads the daily report of DailyReportProjection: one HMGET of every field the range needs. */
export class DailyReportReader {
  constructor(
    private readonly redis: RedisConnection,
    private readonly projection: DailyReportProjection,
  ) {}

  async read(from: string, to: string, types: readonly MissionType[] = MISSION_TYPES): Promise<DailyReport> {
    const cells = daysBetween(from, to).flatMap((day) => types.map((type) => ({ day, type })));
    const fields = cells.flatMap(({ day, type }) => DAILY_REPORT_METRICS.map((metric) => `${day}|${type}|${metric}`));
    const [values, lag] = await Promise.all([
      fields.length > 0 ? this.redis.hmget(this.projection.reportKey, ...fields) : Promise.resolve([]),
      projectionLag(this.redis, this.projection.keys, this.projection.name),
    ]);
    const rows = cells.map(({ day, type }, cell) => {
      const value = (metric: number) => Number(values[cell * DAILY_REPORT_METRICS.length + metric] ?? 0);
      const total = Object.fromEntries(DAILY_REPORT_METRICS.map((metric, i) => [metric, value(i)])) as Record<DailyReportMetric, number>;
      const { scoreSum, ...counts } = total;
      return { day, type, ...counts, meanScore: counts.evaluations > 0 ? scoreSum / counts.evaluations : null };
    });
    return { from, to, rows, lagEvents: lag.events };
  }
}
