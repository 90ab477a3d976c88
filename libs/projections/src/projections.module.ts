import { Module } from '@nestjs/common';
import { KeyLayout } from '@app/event-store';
import { RedisConnection } from '@app/redis';
import { MetricsRegistry, REDIS } from '@app/runtime';
import { DailyReportProjection } from './daily-report.projection';
import { DailyReportReader } from './daily-report.reader';
import { Projection } from './projection';
import { projectionCatalog } from './projection-catalog';
import { ProjectionHost } from './projection-host';
import { ProjectionMetrics } from './projection-metrics';
import { PROJECTIONS } from './projection-tokens';

/** The read models projected from the event log, their runners, metrics and readers. Needs CoreModule. */
@Module({
  providers: [
    { provide: PROJECTIONS, inject: [KeyLayout], useFactory: (keys: KeyLayout): Projection[] => projectionCatalog(keys) },
    {
      provide: DailyReportProjection,
      inject: [PROJECTIONS],
      useFactory: (projections: Projection[]) => projections.find((p): p is DailyReportProjection => p instanceof DailyReportProjection),
    },
    {
      provide: ProjectionMetrics,
      inject: [MetricsRegistry, REDIS, KeyLayout, PROJECTIONS],
      useFactory: (registry: MetricsRegistry, redis: RedisConnection, keys: KeyLayout, projections: Projection[]) =>
        new ProjectionMetrics(
          registry,
          redis,
          keys,
          projections.map((p) => p.name),
        ),
    },
    {
      provide: DailyReportReader,
      inject: [REDIS, DailyReportProjection],
      useFactory: (redis: RedisConnection, projection: DailyReportProjection) => new DailyReportReader(redis, projection),
    },
    ProjectionHost,
  ],
  exports: [DailyReportReader, PROJECTIONS],
})
export class ProjectionsModule {}
