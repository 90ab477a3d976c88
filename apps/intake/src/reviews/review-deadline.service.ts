import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { KeyLayout, PassedOverMissions, TransitionOutcome } from '@app/event-store';
import { decideReviewOverdue, SERVICE_ACTORS } from '@app/mission';
import { MissionPipeline } from '@app/pipeline';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, PeriodicTask, REDIS } from '@app/runtime';
import { DueEntry, DueMissionsWalk, withoutLease } from '../queue/due-missions-walk';
import { ReviewMetrics } from './review-metrics';

/**
 * Whether the mission a review deadline sweep did not mark still awaits a review not yet overdue:
 * its entry stays. Otherwise (no such mission, no longer awaiting review, overdue already, another
 * instance marked it) the entry is stale.
 */
function stillAwaitsReview(outcome: TransitionOutcome): boolean {
  return (
    outcome.kind === 'skipped' && outcome.mission.status === 'awaiting_review' && outcome.mission.review !== undefined && !outcome.mission.review.overdueAt
  );
}

/**
 * Records MissionReviewOverdue, once, for each review that has waited REVIEW_TIMEOUT_MS: it reads
 * the reviews whose deadline is still watched (an overdue review leaves that set in the same
 * append), so each sweep touches only new ones, and pages past the missions whose stored data
 * cannot be read (DueMissionsWalk, which bounds a run). The entry of a mission that no longer
 * exists or no longer awaits review is forgotten, as the due and deadline sweep forgets its own:
 * kept, 200 of them filled every run, and no review behind them was found overdue. Several
 * intakes may sweep at once: the append's expected version lets one of them record it, and the
 * others' decisions then skip.
 */
@Injectable()
export class ReviewDeadlineService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly task: PeriodicTask;
  /** The walk over the sets; a mission whose stored data cannot be read is passed over, named once, and left in its set. */
  private readonly walk: DueMissionsWalk;

  constructor(
    private readonly pipeline: MissionPipeline,
    private readonly keys: KeyLayout,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    private readonly metrics: ReviewMetrics,
    @InjectPinoLogger(ReviewDeadlineService.name) private readonly logger: PinoLogger,
  ) {
    this.walk = new DueMissionsWalk(redis, new PassedOverMissions('the review deadline sweep', (message) => this.logger.warn(message)));
    this.task = new PeriodicTask(
      () => this.sweep(),
      (error) => this.logger.error({ err: error }, 'review deadline sweep failed'),
      redis,
    );
  }

  onApplicationBootstrap(): void {
    // A quarter of the timeout keeps a review's overdue mark within 1.25 timeouts; a minute at most, as timeouts are hours.
    this.task.start(Math.min(60_000, Math.max(100, Math.floor(this.env.REVIEW_TIMEOUT_MS / 4))));
  }

  /** Before the Redis connection closes (shutdown hooks run after destroy hooks). */
  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }

  /** Marks every review overdue at `now`; returns how many it marked. */
  async sweep(now = new Date()): Promise<number> {
    const timeoutMs = this.env.REVIEW_TIMEOUT_MS;
    const due = String(now.getTime() - timeoutMs);
    let marked = 0;
    for (const partition of this.keys.partitions) {
      await this.walk.walk(partition, partition.reviewDeadlines, due, async (missionId) => {
        const outcome = await this.pipeline.transition(missionId, (m) => decideReviewOverdue(m, now, timeoutMs), {
          actor: SERVICE_ACTORS.reviewDeadline,
          now,
        });
        if (outcome.kind !== 'appended') return stillAwaitsReview(outcome) ? DueEntry.Waiting : DueEntry.staleAfter(withoutLease(outcome));
        marked += 1;
        this.metrics.overdue.inc({ type: outcome.mission.type });
        const { correlationId, review } = outcome.mission;
        this.logger.warn({ missionId, correlationId, rule: review?.rule, requestedAt: review?.requestedAt, timeoutMs }, 'review overdue');
        return DueEntry.Left;
      });
    }
    return marked;
  }
}
