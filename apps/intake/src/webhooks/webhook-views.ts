import { ApiProperty } from '@nestjs/swagger';
import {
  DELIVERY_STATUSES,
  DeliveryPage,
  DeliveryStatus,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_STATUSES,
  WebhookDelivery,
  WebhookStatus,
  WebhookSubscription,
} from '@app/webhooks';
import { Assert, SameKeys } from '../http/openapi-schemas';

/*
 * Documentation-only classes for OpenAPI (see ../http/openapi-schemas.ts for why), mirroring:
 *   WebhookSubscriptionView   WebhookSubscription   libs/webhooks/src/webhook-subscription.ts
 *   CreatedWebhookView        + secret              apps/intake/src/webhooks/webhooks.controller.ts
 *   WebhookDeliveryView       WebhookDelivery       libs/webhooks/src/webhook-outbox.ts
 *   DeliveryPageView          DeliveryPage          libs/webhooks/src/webhook-outbox.ts
 */

export class WebhookSubscriptionView implements WebhookSubscription {
  @ApiProperty({ example: 'wh_5f0c2a9e41b7d3c86e19a0f4' }) id: string;
  @ApiProperty({ example: 'https://erp.hotel-seeblick.example/brain/webhooks' }) url: string;
  @ApiProperty({ type: [String], enum: WEBHOOK_EVENT_TYPES, example: ['mission.finished'] }) eventTypes: string[];
  @ApiProperty({ example: 'Odoo: finished missions' }) description: string;
  @ApiProperty({ enum: WEBHOOK_STATUSES, description: 'A disabled subscription gets no deliveries; those it misses are listed as dead.' })
  status: WebhookStatus;
  @ApiProperty({ type: String, nullable: true, description: 'Why it was disabled; null while active.' }) disabledReason: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'Until when the secret the last rotation replaced still signs beside the new one (`previousSecretsUntil` lists every previous one).',
  })
  previousSecretUntil: string | null;
  @ApiProperty({
    type: [String],
    format: 'date-time',
    description:
      "Until when each previous secret still signs beside the current one, as the last rotation left them (that rotation's first): " +
      'the secret it replaced and every earlier one whose overlap had not ended, each until the time its own rotation gave it. ' +
      "With WEBHOOK_SECRET_OVERLAP_SECONDS 0 the first is the rotation's own time: the secret it replaced stopped signing then. " +
      'Empty before a rotation; a time past has ended.',
    example: ['2026-03-02T09:15:00.000Z', '2026-03-02T09:14:58.120Z'],
  })
  previousSecretsUntil: string[];
  @ApiProperty({ description: 'Version of the subscription record (one per event)', example: 1 }) version: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class CreatedWebhookView extends WebhookSubscriptionView {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The signing secret: shown in this answer only. Deliveries carry `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.',
  })
  secret: string;
}

export class WebhookDeliveryView implements WebhookDelivery {
  @ApiProperty({ example: 'msg_3b9d0c1e7a2f48d6b5e0a9c4f1d27e83', description: 'Also the `webhook-id` header of every attempt.' }) id: string;
  @ApiProperty({ example: 'wh_5f0c2a9e41b7d3c86e19a0f4' }) subscriptionId: string;
  @ApiProperty({ example: '01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e' }) missionId: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, example: 'mission.finished' }) type: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty({ example: 1 }) attempts: number;
  @ApiProperty({ type: Number, nullable: true, example: 200, description: 'HTTP status of the last attempt; null before one, or without an answer.' })
  lastResponseCode: number | null;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'Why the last attempt failed (no answer, a refused URL, the status).' })
  lastError: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastAttemptAt: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description:
      'When a pending delivery is attempted next; null for one that waits for an earlier delivery of the same mission (deliveries of a mission go in log order), and for delivered and dead ones.',
  })
  nextAttemptAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) deliveredAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) deadAt: string | null;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'Name of the API key that last asked for it again (redeliver), or null.' })
  redeliveredBy: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'When it was last asked for again.' }) redeliveredAt: string | null;
}

export class DeliveryPageView implements DeliveryPage {
  @ApiProperty({ type: () => [WebhookDeliveryView], description: 'Deliveries, newest first (dead ones by when they died).' })
  items: WebhookDeliveryView[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page (there may be one after a short page: a page reads at most 5,000 entries); null on the last.',
    example: '1765.msg_0f8e1c2d3b4a59687766554433221100.oW3DzXg1kQ2a',
  })
  nextCursor: string | null;
}

export type WebhookViewsMirrorTheirTypes = [
  Assert<SameKeys<WebhookSubscriptionView, WebhookSubscription>>,
  Assert<SameKeys<WebhookDeliveryView, WebhookDelivery>>,
  Assert<SameKeys<DeliveryPageView, DeliveryPage>>,
];
