import { Environment } from '@app/config';
import { RetryPolicy } from '@app/runtime';
import { DeliveryRetention } from './webhook-outbox';

/** The webhook variables of the Environment, in the units the code uses. */
export interface WebhookSettings {
  allowedHosts: string;
  onlyAllowedHosts: boolean;
  timeoutMs: number;
  retry: RetryPolicy;
  disableAfterMs: number;
  secretOverlapMs: number;
  retention: DeliveryRetention;
}

export function webhookSettingsOf(env: Environment): WebhookSettings {
  return {
    allowedHosts: env.WEBHOOK_ALLOWED_HOSTS,
    onlyAllowedHosts: env.WEBHOOK_ONLY_ALLOWED_HOSTS === 'true',
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    retry: { backoffMs: env.WEBHOOK_BACKOFF_MS, backoffMaxMs: env.WEBHOOK_BACKOFF_MAX_MS, retryPeriodMs: env.WEBHOOK_RETRY_PERIOD_SECONDS * 1000 },
    disableAfterMs: env.WEBHOOK_DISABLE_AFTER_SECONDS * 1000,
    secretOverlapMs: env.WEBHOOK_SECRET_OVERLAP_SECONDS * 1000,
    retention: { deliveredSeconds: env.WEBHOOK_DELIVERY_RETENTION_SECONDS, deadSeconds: env.WEBHOOK_DEAD_RETENTION_SECONDS },
  };
}
