import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsCleanText, IsIsoTime, MISSION_TYPES, MissionType, Omittable, SINGLE_LINE } from '@app/mission';

/** Which dead-lettered missions a bulk requeue takes; every given condition must hold. */
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
    maximum: 1000,
    default: 100,
    description: 'At most this many missions, oldest dead-lettered first.',
    example: 100,
  })
  // A JSON number only: a conversion would take true, "1" or "0x1" for 1 and requeue on them.
  @Omittable()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({
    maxLength: 500,
    description: 'Why; recorded in each MissionRequeued event. One line of text (no control characters or bidi overrides). Defaults to "bulk requeue".',
    example: 'LLM provider outage is over',
  })
  @Omittable()
  @IsString()
  @MaxLength(500)
  @IsCleanText(SINGLE_LINE)
  reason?: string;
}
