import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AgentRegistry } from '@app/agents';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { ProjectionsModule } from '@app/projections';
import { RedisConnection } from '@app/redis';
import { CoreModule, localDataDir, REDIS } from '@app/runtime';
import { WebhooksModule } from '@app/webhooks';
import { AgentsController } from './agents/agents.controller';
import { ApiKeyGuard, ApiKeyStore, resolveApiKeys } from './auth';
import { CallerController } from './console/caller.controller';
import { MissionChainController } from './console/mission-chain.controller';
import { ThroughputController } from './console/throughput.controller';
import { DeadLettersController } from './dead-letters/dead-letters.controller';
import { JsonBodyGuard } from './http/json-body.guard';
import { PersonalDataInterceptor } from './http/personal-data.interceptor';
import { UnknownQueryInterceptor } from './http/unknown-query.interceptor';
import { MissionCommandsService } from './missions/mission-commands.service';
import { MissionIntakeService } from './missions/mission-intake.service';
import { MissionQueryService } from './missions/mission-query.service';
import { MissionsController } from './missions/missions.controller';
import { ServableSkills } from './missions/servable-skills';
import { SubmissionConsumer } from './missions/submission.consumer';
import { IntakeMetrics } from './queue/intake-metrics';
import { LeaseExpiryService } from './queue/lease-expiry.service';
import { TimeWatchService } from './queue/time-watch.service';
import { ApiKeyThrottlerGuard, AuthFailureThrottle, ListScanInterceptor, ListScanSlots, RedisThrottlerStorage, throttlerOptions } from './rate-limit';
import { ReportsController } from './reports/reports.controller';
import { RetentionMetrics } from './retention/retention-metrics';
import { RetentionController } from './retention/retention.controller';
import { RetentionService } from './retention/retention.service';
import { ReviewDeadlineService } from './reviews/review-deadline.service';
import { ReviewInboxService } from './reviews/review-inbox.service';
import { ReviewMetrics } from './reviews/review-metrics';
import { ReviewsController } from './reviews/reviews.controller';
import { ScheduleCommandsService } from './schedules/schedule-commands.service';
import { ScheduleFiringService } from './schedules/schedule-firing.service';
import { ScheduleMetrics } from './schedules/schedule-metrics';
import { ScheduleRegistry } from './schedules/schedule-registry';
import { SchedulesController } from './schedules/schedules.controller';
import { EventStreamService } from './stream/event-stream.service';
import { StreamTokens } from './stream/stream-tokens';
import { StreamController } from './stream/stream.controller';
import { ErasureSweepService } from './subjects/erasure-sweep.service';
import { PendingErasures } from './subjects/pending-erasures';
import { SubjectsController } from './subjects/subjects.controller';
import { SubjectsService } from './subjects/subjects.service';
import { WebhooksController } from './webhooks/webhooks.controller';

@Module({})
export class IntakeModule {
  static register(env: Environment): DynamicModule {
    const { keys, local } = resolveApiKeys(env.API_KEYS, localDataDir());
    if (local?.created) {
      // Straight to the terminal, once, not into the log pipeline.
      process.stderr.write(`intake: API_KEYS is empty; generated a local operator key (kept in ${local.file}):\n  ${local.key.secret}\n`);
    } else if (local) {
      process.stderr.write(`intake: API_KEYS is empty; using the local operator key in ${local.file}\n`);
    }
    return {
      module: IntakeModule,
      imports: [
        CoreModule.forRoot(env, 'intake'),
        ThrottlerModule.forRootAsync({
          inject: [REDIS],
          useFactory: (redis: RedisConnection) => throttlerOptions(env.RATE_LIMIT_PER_MINUTE, new RedisThrottlerStorage(redis, env.KEY_PREFIX)),
        }),
        ProjectionsModule,
        WebhooksModule,
      ],
      controllers: [
        MissionsController,
        DeadLettersController,
        AgentsController,
        ReportsController,
        ReviewsController,
        WebhooksController,
        SchedulesController,
        StreamController,
        CallerController,
        MissionChainController,
        ThroughputController,
        SubjectsController,
        RetentionController,
        SubmissionConsumer,
      ],
      providers: [
        { provide: ApiKeyStore, useValue: new ApiKeyStore(keys) },
        // Order matters: the throttler counts by the caller the key guard identified.
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: StreamTokens, inject: [ApiKeyStore], useFactory: (store: ApiKeyStore) => new StreamTokens(store) },
        EventStreamService,
        { provide: APP_GUARD, useClass: ApiKeyThrottlerGuard },
        // Last: a body is read only for a caller the guards above let through.
        { provide: APP_GUARD, useClass: JsonBodyGuard },
        { provide: AgentRegistry, inject: [REDIS, KeyLayout], useFactory: (redis: RedisConnection, keys: KeyLayout) => new AgentRegistry(redis, keys) },
        {
          provide: AuthFailureThrottle,
          inject: [REDIS],
          useFactory: (redis: RedisConnection) => new AuthFailureThrottle(new RedisThrottlerStorage(redis, env.KEY_PREFIX), env.AUTH_FAILURES_PER_MINUTE),
        },
        { provide: ListScanSlots, useFactory: () => new ListScanSlots(env.LIST_SCANS_PER_KEY) },
        ListScanInterceptor,
        // A query parameter on a route that takes none is a 400, as one a query DTO does not name is.
        { provide: APP_INTERCEPTOR, useClass: UnknownQueryInterceptor },
        { provide: APP_INTERCEPTOR, useClass: PersonalDataInterceptor },
        IntakeMetrics,
        TimeWatchService,
        MissionIntakeService,
        MissionQueryService,
        MissionCommandsService,
        ServableSkills,
        SubjectsService,
        PendingErasures,
        ErasureSweepService,
        RetentionService,
        RetentionMetrics,
        LeaseExpiryService,
        ReviewInboxService,
        ReviewMetrics,
        ReviewDeadlineService,
        { provide: ScheduleRegistry, inject: [REDIS, KeyLayout], useFactory: (redis: RedisConnection, keys: KeyLayout) => new ScheduleRegistry(redis, keys) },
        ScheduleCommandsService,
        ScheduleFiringService,
        ScheduleMetrics,
      ],
    };
  }
}
