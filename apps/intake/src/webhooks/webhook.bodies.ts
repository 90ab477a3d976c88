import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { httpUrlParser, IsParsedBy } from '@app/config';
import { IsCleanText, Omittable, PAGE_CURSOR_NOT_ISSUED, SINGLE_LINE } from '@app/mission';
import { DELIVERY_CURSOR_PATTERN, DELIVERY_STATUSES, DeliveryStatus, WEBHOOK_EVENT_TYPES } from '@app/webhooks';
import { PageSize } from '../http/page-size.decorator';

/** The longest webhook URL, as sent and as URL parsing writes it (percent-encoded): how it is stored and called. */
export const WEBHOOK_URL_MAX_LENGTH = 2048;

// Stored and called as URL parsing writes it (href), so blanks around it are dropped, not sent.
const httpUrl = httpUrlParser('url', { emptyAllowed: false, parsedBeforeUse: true });

/**
 * An http(s) URL that, written as URL parsing writes it, still fits WEBHOOK_URL_MAX_LENGTH: a URL
 * of 1,010 emoji passed as sent and was stored 12,143 characters long, past the request line a
 * receiver takes.
 */
function webhookUrl(text: string): void {
  httpUrl(text);
  const written = new URL(text).href.length;
  if (written > WEBHOOK_URL_MAX_LENGTH) {
    throw new Error(
      `url must be at most ${WEBHOOK_URL_MAX_LENGTH} characters as URL parsing writes it (percent-encoded), as it is stored and called; this one is ${written}`,
    );
  }
}

export class CreateWebhookBody {
  @ApiProperty({
    example: 'https://erp.hotel-seeblick.example/brain/webhooks',
    maxLength: WEBHOOK_URL_MAX_LENGTH,
    description:
      'Where deliveries are POSTed: an http(s) URL, kept as URL parsing (WHATWG) reads it (`http://127.1/x` is `http://127.0.0.1/x`), at most 2048 characters so written (percent-encoded), no credentials, not port 0; ' +
      'it must resolve to public addresses unless WEBHOOK_ALLOWED_HOSTS lists it (else a 422).',
  })
  @IsString()
  @MaxLength(WEBHOOK_URL_MAX_LENGTH)
  // What URL parsing (WHATWG) takes, as the policy parses and the dispatcher calls it: `http://127.1/`
  // too. The policy then says what else is wrong (credentials, a host that is not public).
  @IsParsedBy('isHttpUrl', 'url', webhookUrl)
  url: string;

  @ApiProperty({
    type: [String],
    enum: WEBHOOK_EVENT_TYPES,
    minItems: 1,
    maxItems: WEBHOOK_EVENT_TYPES.length,
    uniqueItems: true,
    example: ['mission.finished', 'MissionDeadLettered'],
    description: 'Mission events by name, and `mission.finished` for a mission that succeeded, was cancelled or dead-lettered.',
  })
  @IsArray()
  // class-validator's own words read "must contain at least 1 elements" and "All eventTypes's elements must be unique".
  @ArrayMinSize(1, { message: 'eventTypes must name at least one event type' })
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique({ message: 'eventTypes must not name an event type twice' })
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  eventTypes: string[];

  @ApiPropertyOptional({ example: 'Odoo: finished missions', maxLength: 200 })
  @Omittable()
  @IsString()
  @MaxLength(200)
  @IsCleanText(SINGLE_LINE)
  description?: string;
}

export class ListDeliveriesQuery {
  @ApiPropertyOptional({ enum: [...DELIVERY_STATUSES], description: 'Only deliveries in this status.', example: 'dead' })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @ApiPropertyOptional({
    pattern: DELIVERY_CURSOR_PATTERN,
    description:
      "The `nextCursor` of the previous page of this subscription's deliveries, with the same `status` (the page size may change). " +
      'Anything else is a 400, a cursor of another subscription or status too: start again without a cursor then.',
    example: '1765.msg_0f8e1c2d3b4a59687766554433221100.oW3DzXg1kQ2a',
  })
  @IsOptional()
  @IsString()
  @Matches(new RegExp(DELIVERY_CURSOR_PATTERN), { message: PAGE_CURSOR_NOT_ISSUED })
  cursor?: string;

  @PageSize()
  limit?: number;
}
