import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { KeyLayout, MISSION_HASH_FIELDS, readMissionFields } from '@app/event-store';
import { MissionPersonalData } from '@app/guest-data';
import { ProjectionRunner } from '@app/projections';
import { RedisConnection, settlesWhileReachable } from '@app/redis';
import { REDIS } from '@app/runtime';
import { ServiceTracer } from '@app/tracing';
import { TargetUrlPolicy } from './target-url-policy';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookKeys } from './webhook-keys';
import { openWebhookBody } from './webhook-messages';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookOutbox } from './webhook-outbox';
import { WebhookOutboxProjection } from './webhook-outbox.projection';
import { WebhookSender } from './webhook-sender';
import { WebhookSettings } from './webhook-settings';
import { WebhookSubscriptions } from './webhook-subscriptions';
import { WEBHOOK_SETTINGS } from './webhook-tokens';

/** Log entries per outbox batch: each becomes up to two deliveries per subscription, all in one script call. */
const OUTBOX_BATCH = 200;

/** Runs the outbox projection and the dispatcher of this instance from start-up to shutdown. */
@Injectable()
export class WebhookHost implements OnApplicationBootstrap, OnModuleDestroy {
  readonly runner: ProjectionRunner;
  readonly dispatcher: WebhookDispatcher;

  constructor(
    @Inject(REDIS) private readonly redis: RedisConnection,
    keys: KeyLayout,
    webhookKeys: WebhookKeys,
    subscriptions: WebhookSubscriptions,
    outbox: WebhookOutbox,
    policy: TargetUrlPolicy,
    metrics: WebhookMetrics,
    @Inject(WEBHOOK_SETTINGS) settings: WebhookSettings,
    tracer: ServiceTracer,
    @InjectPinoLogger(WebhookHost.name) logger: PinoLogger,
    personal: MissionPersonalData,
  ) {
    this.runner = new ProjectionRunner(redis, keys, new WebhookOutboxProjection(webhookKeys, subscriptions), {
      batchSize: OUTBOX_BATCH,
      onError: (error) => logger.warn({ err: error }, 'webhook outbox failed to read or apply a batch; retrying'),
      onRecovered: (failures, forMs) => logger.info({ failures, forMs }, 'webhook outbox reads and applies batches again'),
    });
    this.dispatcher = new WebhookDispatcher(outbox, subscriptions, new WebhookSender(policy, settings.timeoutMs), {
      retry: settings.retry,
      disableAfterMs: settings.disableAfterMs,
      timeoutMs: settings.timeoutMs,
      openBody: (body) => openWebhookBody(personal, body),
      onAttempt: (outcome) => metrics.attempt(outcome),
      onDisabled: (subscriptionId, reason) => {
        metrics.endpointDisabled();
        logger.warn({ subscriptionId, reason }, 'webhook endpoint disabled');
      },
      onError: (error) => logger.warn({ err: error }, 'webhook dispatcher failed; the delivery is attempted again when its claim lapses'),
      onSweepError: (error) => logger.warn({ err: error }, 'webhook delivery list sweep failed; the next sweep goes on with it'),
      tracing: { tracer, traceParents: (missionIds) => readMissionFields(redis, keys, missionIds, MISSION_HASH_FIELDS.traceParent) },
    });
  }

  onApplicationBootstrap(): void {
    this.runner.start();
    this.dispatcher.start();
  }

  /**
   * Before the shared Redis connection closes (shutdown hooks run after destroy hooks). The
   * dispatcher's claims and settlements in progress are waited for only while Redis is reachable:
   * during an outage they wait out their commands' retries, and a claim not settled lapses and is
   * attempted again, as after a crash.
   */
  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.runner.stop(), settlesWhileReachable(this.redis, this.dispatcher.stop())]);
  }
}
