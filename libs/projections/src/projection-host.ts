import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { KeyLayout } from '@app/event-store';
import { RedisConnection } from '@app/redis';
import { REDIS } from '@app/runtime';
import { Projection } from './projection';
import { ProjectionMetrics } from './projection-metrics';
import { ProjectionRunner } from './projection-runner';
import { PROJECTIONS } from './projection-tokens';

/** Runs every projection of the service in the background from start-up to shutdown. */
@Injectable()
export class ProjectionHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly runners: ProjectionRunner[];

  constructor(
    @Inject(REDIS) redis: RedisConnection,
    keys: KeyLayout,
    @Inject(PROJECTIONS) projections: Projection[],
    metrics: ProjectionMetrics,
    @InjectPinoLogger(ProjectionHost.name) logger: PinoLogger,
  ) {
    this.runners = projections.map(
      (projection) =>
        new ProjectionRunner(redis, keys, projection, {
          onBatch: (_batch, outcome) => metrics.record(projection.name, outcome),
          onError: (error) => logger.warn({ err: error, projection: projection.name }, 'projection failed to read or apply a batch; retrying'),
          onUnreadable: (entry) =>
            logger.warn(
              { projection: projection.name, logId: entry.logId, missionId: entry.missionId, reason: entry.reason },
              `projection passed over log entry ${entry.logId} (mission ${entry.missionId}): its event cannot be read (${entry.reason}); run replay verify`,
            ),
          onRecovered: (failures, forMs) => logger.info({ projection: projection.name, failures, forMs }, 'projection reads and applies batches again'),
        }),
    );
  }

  onApplicationBootstrap(): void {
    for (const runner of this.runners) runner.start();
  }

  /** Before the shared Redis connection closes (shutdown hooks run after destroy hooks). */
  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.stop()));
  }
}
