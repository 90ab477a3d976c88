import { KeyLayout } from '@app/event-store';
import { projectionCheckpointKey } from '@app/projections';

/** The name of the webhook outbox among the log's consumers: its keys and its checkpoint. */
export const WEBHOOK_OUTBOX = 'webhooks';

/**
 * Every key of the webhooks: subscriptions, their secrets and events, the outbox projected from the
 * mission log and its checkpoint. All under the projections' hash tag `{p}`, so the outbox can move
 * its checkpoint and write the deliveries of a batch in one script.
 */
export class WebhookKeys {
  constructor(private readonly keys: KeyLayout) {}

  private key(part: string): string {
    return this.keys.projection(WEBHOOK_OUTBOX, part);
  }
  get subscriptions(): string {
    return this.key('subscriptions');
  }
  get versions(): string {
    return this.key('versions');
  }
  get secrets(): string {
    return this.key('secrets');
  }
  /** The subscriptions' own event stream (WebhookSubscribed, WebhookSecretRotated, …). */
  get log(): string {
    return this.key('log');
  }
  /** The outbox's position in each log partition (the projection checkpoint hash). */
  get checkpoint(): string {
    return projectionCheckpointKey(this.keys, WEBHOOK_OUTBOX);
  }
  /** Deliveries that may be attempted, by the time they are due (ms); a claimed one by when its claim lapses. */
  get due(): string {
    return this.key('due');
  }
  /**
   * Ids of the deliveries not yet delivered or dead, wherever they wait (due, claimed, or behind an
   * earlier one of their mission): the backlog, its size read at scrape time.
   */
  get pending(): string {
    return this.key('pending');
  }
  /** Counter that orders the deliveries of a subscription as the outbox wrote them. */
  get sequence(): string {
    return this.key('sequence');
  }
  /** Subscription id -> the sequence number up to which its delivery list was last swept for expired deliveries. */
  get listSweep(): string {
    return this.key('list-sweep');
  }
  /** Subscription id -> since when (ms) its endpoint has failed without a success since. */
  get failingSince(): string {
    return this.key('failing-since');
  }
  /** Prefix of the delivery hashes (`<prefix><delivery id>`), for scripts that derive a key from an id. */
  get deliveryPrefix(): string {
    return this.key('delivery:');
  }
  delivery(id: string): string {
    return `${this.deliveryPrefix}${id}`;
  }
  /** Prefix of the per-(subscription, mission) queues: only the head of each is ever due, which keeps log order per mission. */
  get missionQueuePrefix(): string {
    return this.key('mission-queue:');
  }
  missionQueue(subscriptionId: string, missionId: string): string {
    return `${this.missionQueuePrefix}${subscriptionId}:${missionId}`;
  }
  /**
   * Delivery id of each queue head -> its queue's name (`<subscription id>:<mission id>`), so a head
   * whose delivery hash is gone can still leave its queue (includes/mission-queues.lua).
   */
  get queueHeads(): string {
    return this.key('queue-heads');
  }
  /** Prefix of each subscription's deliveries, scored by their sequence number. */
  get deliveriesPrefix(): string {
    return this.key('deliveries:');
  }
  deliveries(subscriptionId: string): string {
    return `${this.deliveriesPrefix}${subscriptionId}`;
  }
  /** A subscription's dead deliveries, scored by when they died. */
  dead(subscriptionId: string): string {
    return this.key(`dead:${subscriptionId}`);
  }
}
