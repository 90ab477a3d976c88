import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsString, Max, MaxLength, Min, ValidateBy, ValidateIf } from 'class-validator';
import { BULK_REQUEUE_MAX, IsCleanText, IsIsoTime, MISSION_TYPES, MissionType, Omittable, SINGLE_LINE, KeptInPlainText } from '@app/mission';
import { SAYS_WHEN_REQUIRED } from '../http/request-validation.pipe';

/**
 * The fields that narrow a bulk requeue. `limit` is none: "the 5 oldest" is still a blind pick, so
 * a body with a limit alone needs `all` as much as an empty one.
 */
const CONDITIONS = ['type', 'deadLetteredBefore', 'errorContains'] as const;

/** The 400's problem for a bulk requeue without a condition, saying how to ask for every dead letter. */
export const UNFILTERED_REQUEUE_PROBLEM =
  'all must be true when no type, deadLetteredBefore or errorContains is given: send "all": true to requeue the oldest dead letters, up to limit (default 100)';

function hasCondition(body: Pick<RequeueFilterBody, (typeof CONDITIONS)[number]>): boolean {
  return CONDITIONS.some((condition) => body[condition] !== undefined);
}

/**
 * Which dead-lettered missions a bulk requeue takes; every given condition must hold. It says what
 * it takes: a body without a condition and without `"all": true` (an empty or absent one, a client
 * that forgot its filter) is a 400, not a requeue of the 100 oldest, each of which calls the LLM again.
 */
export class RequeueFilterBody {
  @ApiPropertyOptional({ enum: [...MISSION_TYPES], enumName: 'MissionType', description: 'Only missions of this type.', example: 'pricing' })
  @Omittable()
  @IsIn(MISSION_TYPES)
  type?: MissionType;

  /** Only missions dead-lettered before this time. */
  @ApiPropertyOptional({ format: 'date-time', description: 'Only missions dead-lettered before this time (ISO 8601).', example: '2026-05-01T12:00:00Z' })
  @Omittable()
  @IsIsoTime()
  deadLetteredBefore?: string;

  /** Only missions whose last error contains this text. */
  @ApiPropertyOptional({ maxLength: 200, description: 'Only missions whose last error contains this text (case-sensitive).', example: 'timed out' })
  @Omittable()
  @IsString()
  @MaxLength(200)
  @IsCleanText(SINGLE_LINE)
  errorContains?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: BULK_REQUEUE_MAX,
    default: 100,
    description: 'At most this many missions, oldest dead-lettered first.',
    example: 100,
  })
  // A JSON number only: a conversion would take true, "1" or "0x1" for 1 and requeue on them.
  @Omittable()
  @IsInt()
  @Min(1)
  @Max(BULK_REQUEUE_MAX)
  limit?: number;

  @ApiPropertyOptional({
    type: 'boolean',
    description:
      'true to requeue without a condition: the oldest dead letters, up to `limit`. Required when the body gives no `type`, ' +
      '`deadLetteredBefore` or `errorContains` (`limit` alone is no condition: `{"all": true, "limit": 5}` takes the 5 oldest, ' +
      '`{"limit": 5}` is a 400). With conditions it may be left out, and changes nothing.',
    example: true,
  })
  // Checked whenever sent (null and "true" are refused), and whenever the body gives no condition.
  @ValidateIf((body: RequeueFilterBody) => body.all !== undefined || !hasCondition(body))
  @IsBoolean()
  @ValidateBy(
    {
      name: 'allOrCondition',
      validator: {
        validate: (value: unknown, args) => value === true || (args !== undefined && hasCondition(args.object)),
        defaultMessage: () => UNFILTERED_REQUEUE_PROBLEM,
      },
    },
    { context: SAYS_WHEN_REQUIRED },
  )
  all?: boolean;

  @KeptInPlainText({
    description:
      'Why; recorded in each MissionRequeued event, in plain, so it must not name the guest. One line of text (no control characters or bidi overrides), ' +
      'without an `@`. Defaults to "bulk requeue".',
    example: 'LLM provider outage is over',
  })
  reason?: string;
}
