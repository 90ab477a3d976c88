import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ApplyOutcome, Projection, ProjectionBatch, ProjectionScript } from '@app/projections';
import { RedisConnection } from '@app/redis';
import { WEBHOOK_OUTBOX, WebhookKeys } from './webhook-keys';
import { webhookMessagesOf } from './webhook-messages';
import { WebhookSubscriptions } from './webhook-subscriptions';

/** Entries of a subscription's delivery list checked for a delivery that expired, per delivery written. */
const SWEEP_PER_WRITE = 4;

const enqueueScript = new ProjectionScript(join(__dirname, 'lua'), 'enqueue-webhook-deliveries-6', { SWEEP: { perWrite: SWEEP_PER_WRITE } });

/** The delivery (and `webhook-id`) of one message of one event to one subscription: the same whoever computes it. */
export function deliveryIdOf(subscriptionId: string, eventId: string, type: string): string {
  return `msg_${createHash('sha256').update(`${subscriptionId}\n${eventId}\n${type}`).digest('hex').slice(0, 32)}`;
}

/**
 * The webhook outbox as a consumer of the mission log with its own checkpoint: for each batch of
 * events, the deliveries they give to the subscriptions that want them are written together with
 * the checkpoint (enqueue-webhook-deliveries-6.lua). Nothing that appends mission events knows of
 * webhooks; deliveries are derived from the log, so none is lost to a crash between an event and
 * its delivery. A subscription gets the events from its creation on.
 */
export class WebhookOutboxProjection implements Projection {
  readonly name = WEBHOOK_OUTBOX;
  /** A rebuild from the first event would send every delivery again; there is nothing to rebuild. */
  readonly readModelKeys: readonly string[] = [];

  constructor(
    private readonly keys: WebhookKeys,
    private readonly subscriptions: WebhookSubscriptions,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Only while there are subscriptions: without any, the runner moves the checkpoint over the log
   * without reading it (the events a subscription made later would be given are all newer than it).
   */
  async wantsEvents(): Promise<boolean> {
    return this.subscriptions.any();
  }

  async apply(redis: RedisConnection, batch: ProjectionBatch): Promise<ApplyOutcome> {
    const subscriptions = await this.subscriptions.list();
    const args: (string | number)[] = [this.clock(), this.keys.deliveryPrefix, this.keys.missionQueuePrefix, this.keys.deliveriesPrefix];
    // Without subscriptions the batch only moves the checkpoint: its events are never parsed.
    for (const event of subscriptions.length > 0 ? batch.events : []) {
      for (const message of webhookMessagesOf(event)) {
        for (const subscription of subscriptions) {
          if (event.at < subscription.createdAt || !subscription.eventTypes.includes(message.type)) continue;
          args.push(deliveryIdOf(subscription.id, event.eventId, message.type), subscription.id, event.missionId, message.type, JSON.stringify(message));
        }
      }
    }
    const keys = [this.keys.checkpoint, this.keys.due, this.keys.sequence, this.keys.listSweep, this.keys.pending, this.keys.queueHeads];
    return enqueueScript.apply(redis, keys, batch, args);
  }
}
