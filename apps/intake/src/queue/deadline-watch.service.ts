import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { decideOverdue } from '@app/mission';
import { MissionPipeline } from '@app/pipeline';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, PeriodicTask, REDIS } from '@app/runtime';

/** Missions looked at per partition and sweep; the rest wait for the next sweep. */
const SWEEP_BATCH = 200;

/**
 * Records MissionOverdue once for each unfinished mission whose deadline has passed. Missions with
 * a deadline are watched in a sorted set by deadline (written with MissionCreated, left when the
 * mission is found overdue or finishes), so a sweep reads only those already due. Every intake
 * instance sweeps; the append at the mission's version lets exactly one of them record it.
 */
@Injectable()
export class DeadlineWatchService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly task = new PeriodicTask(
    () => this.sweep(),
    (error) => this.logger.error({ err: error }, 'deadline sweep failed'),
  );

  constructor(
    private readonly pipeline: MissionPipeline,
    private readonly keys: KeyLayout,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @InjectPinoLogger(DeadlineWatchService.name) private readonly logger: PinoLogger,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start(this.env.DEADLINE_CHECK_MS);
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }

  /** Records every mission found overdue at `now`; returns how many this call recorded. */
  async sweep(now = new Date()): Promise<number> {
    let recorded = 0;
    for (const partition of this.keys.partitions) {
      const due = await this.redis.zrangebyscore(partition.deadlines, '-inf', now.getTime(), 'LIMIT', 0, SWEEP_BATCH);
      for (const missionId of due) {
        const outcome = await this.pipeline.transition(missionId, (mission) => decideOverdue(mission, now), { actor: 'intake:deadline-watch', now });
        if (outcome.kind === 'appended') recorded += 1;
        // Another instance recorded it first, or the mission finished meanwhile: nothing left to watch.
        else await this.redis.zrem(partition.deadlines, missionId);
      }
    }
    if (recorded > 0) this.logger.info({ recorded }, 'missions past their deadline recorded as overdue');
    return recorded;
  }
}
