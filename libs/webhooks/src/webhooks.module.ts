import { Module } from '@nestjs/common';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { MissionPersonalData } from '@app/guest-data';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, MetricsRegistry, REDIS } from '@app/runtime';
import { TargetUrlPolicy } from './target-url-policy';
import { WebhookHost } from './webhook-host';
import { WebhookKeys } from './webhook-keys';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookOutbox } from './webhook-outbox';
import { webhookSettingsOf, WebhookSettings } from './webhook-settings';
import { WebhookSubscriptions } from './webhook-subscriptions';
import { WEBHOOK_SETTINGS } from './webhook-tokens';

/** Webhook subscriptions, the outbox derived from the mission log, and its dispatcher. Needs CoreModule. */
@Module({
  providers: [
    { provide: WEBHOOK_SETTINGS, inject: [ENVIRONMENT], useFactory: (env: Environment) => webhookSettingsOf(env) },
    { provide: WebhookKeys, inject: [KeyLayout], useFactory: (keys: KeyLayout) => new WebhookKeys(keys) },
    {
      provide: WebhookSubscriptions,
      // The signing secrets are sealed under the master keys of guest data (CoreModule's).
      inject: [REDIS, WebhookKeys, MissionPersonalData],
      useFactory: (redis: RedisConnection, keys: WebhookKeys, personal: MissionPersonalData) =>
        new WebhookSubscriptions(redis, keys, personal.cipher.store.ring),
    },
    {
      provide: WebhookOutbox,
      inject: [REDIS, WebhookKeys, WEBHOOK_SETTINGS],
      useFactory: (redis: RedisConnection, keys: WebhookKeys, settings: WebhookSettings) => new WebhookOutbox(redis, keys, settings.retention),
    },
    {
      provide: TargetUrlPolicy,
      inject: [WEBHOOK_SETTINGS],
      useFactory: (settings: WebhookSettings) => new TargetUrlPolicy(settings.allowedHosts, settings.onlyAllowedHosts),
    },
    {
      provide: WebhookMetrics,
      inject: [MetricsRegistry, REDIS, KeyLayout, WebhookOutbox],
      useFactory: (registry: MetricsRegistry, redis: RedisConnection, keys: KeyLayout, outbox: WebhookOutbox) =>
        new WebhookMetrics(registry, redis, keys, outbox),
    },
    WebhookHost,
  ],
  exports: [WebhookSubscriptions, WebhookOutbox, TargetUrlPolicy, WEBHOOK_SETTINGS],
})
export class WebhooksModule {}
