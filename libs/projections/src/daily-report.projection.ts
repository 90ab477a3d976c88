import { join } from 'node:path';
import { KeyLayout } from '@app/event-store';
import { MissionEvent, TokenUsage } from '@app/mission';
import { RedisConnection } from '@app/redis';
import { ApplyOutcome, Projection, ProjectionBatch } from './projection';
import { projectionCheckpointKey } from './projection-checkpoints';
import { ProjectionScript } from './projection-script';

/** What the daily report counts per UTC day and mission type; each event adds to the day it happened (`at`). */
export const DAILY_REPORT_METRICS = [
  'created',
  'attempts',
  'failedAttempts',
  'evaluations',
  'scoreSum',
  'succeeded',
  'deadLettered',
  'requeued',
  'cancelled',
  'reviewsRequested',
  'approved',
  'edited',
  'rejected',
  'reviewsOverdue',
  'promptTokens',
  'completionTokens',
  'costUsd',
] as const;
export type DailyReportMetric = (typeof DAILY_REPORT_METRICS)[number];

export const DAILY_REPORT = 'daily-report';

const applyScript = new ProjectionScript(join(__dirname, 'lua'), 'apply-daily-report-3');

/** The metrics an event adds to; empty for events the report does not count (queued, scheduled, assigned, overdue). */
export function dailyReportMetrics(event: MissionEvent): [DailyReportMetric, number][] {
  switch (event.type) {
    case 'MissionCreated':
      return [['created', 1]];
    case 'MissionStarted':
      return [['attempts', 1]];
    case 'MissionFailed': {
      // A reply the provider billed and the executor rejected (cut off, not the schema) was paid for all the same.
      const { usage, costUsd } = event.data;
      return [['failedAttempts', 1], ...(usage ? billedMetrics(usage, costUsd) : [])];
    }
    case 'MissionCompleted':
      return billedMetrics(event.data.result.usage, event.data.result.costUsd);
    case 'LateReplyBilled':
      // Its attempt was over when it came (cancelled, timed out, superseded), but it was paid for.
      return billedMetrics(event.data.usage, event.data.costUsd);
    case 'MissionEvaluated': {
      // A pass held for a reviewer succeeds when it is approved. An LLM judge's call is billed too.
      const { passed, heldForReview, score, usage, costUsd } = event.data;
      const succeeded = passed && !heldForReview;
      return [
        ['evaluations', 1],
        ['scoreSum', score],
        ...(succeeded ? [['succeeded', 1] as [DailyReportMetric, number]] : []),
        ...(usage ? billedMetrics(usage, costUsd) : []),
      ];
    }
    case 'MissionReviewRequested':
      return [['reviewsRequested', 1]];
    case 'MissionApproved':
      return [['approved', 1], ['succeeded', 1], ...(event.data.output ? [['edited', 1] as [DailyReportMetric, number]] : [])];
    case 'MissionRejected':
      return [['rejected', 1]];
    case 'MissionReviewOverdue':
      return [['reviewsOverdue', 1]];
    case 'MissionDeadLettered':
      return [['deadLettered', 1]];
    case 'MissionRequeued':
      return [['requeued', 1]];
    case 'MissionCancelled':
      return [['cancelled', 1]];
    case 'MissionQueued':
    case 'MissionAssigned':
    case 'MissionOverdue':
    case 'MissionScheduled':
    case 'SubjectErased':
      return [];
  }
}

function billedMetrics(usage: TokenUsage, costUsd: number | undefined): [DailyReportMetric, number][] {
  const counts: [DailyReportMetric, number][] = [
    ['promptTokens', usage.promptTokens],
    ['completionTokens', usage.completionTokens],
  ];
  return costUsd ? [...counts, ['costUsd', costUsd]] : counts;
}

/**
 * Per UTC day and mission type: missions created, attempts run and failed, evaluations and their
 * scores, successes, dead letters, requeues, cancellations, reviews (asked for, approved, edited,
 * rejected, overdue), LLM tokens and cost. What the hotel's
 * operations lead reads each morning; `/api/reports/daily` serves it.
 */
export class DailyReportProjection implements Projection {
  readonly name = DAILY_REPORT;
  readonly readModelKeys: readonly string[];
  private readonly checkpointKey: string;

  constructor(readonly keys: KeyLayout) {
    this.checkpointKey = projectionCheckpointKey(keys, this.name);
    this.readModelKeys = [this.missionsKey, this.reportKey];
  }

  /** Field `<missionId>` = '<last applied version>|<mission type>'. */
  get missionsKey(): string {
    return this.keys.projection(this.name, 'missions');
  }

  /** Field `<day>|<mission type>|<metric>` = running total. */
  get reportKey(): string {
    return this.keys.projection(this.name, 'report');
  }

  async apply(redis: RedisConnection, batch: ProjectionBatch): Promise<ApplyOutcome> {
    const args: (string | number)[] = [];
    for (const event of batch.events) {
      const metrics = dailyReportMetrics(event);
      if (metrics.length === 0) continue;
      args.push(event.missionId, event.version, event.at.slice(0, 10), event.type === 'MissionCreated' ? event.data.type : '', metrics.length);
      for (const [metric, amount] of metrics) args.push(metric, amount);
    }
    return applyScript.apply(redis, [this.checkpointKey, this.missionsKey, this.reportKey], batch, args);
  }
}
