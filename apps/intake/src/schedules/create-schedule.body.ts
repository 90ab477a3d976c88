import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsObject, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsCleanText, MissionCreateDto, Omittable, SINGLE_LINE } from '@app/mission';

/** The longest catch-up window a schedule may ask for, as SCHEDULE_CATCH_UP_MS allows. */
export const MAX_CATCH_UP_MS = 30 * 24 * 3_600_000;

/**
 * POST /api/schedules. The template is checked after this (ScheduleCommands): by the same rules
 * as a POST /api/missions body, so here it only has to be an object.
 */
export class CreateScheduleBody {
  @ApiProperty({
    example: '0 6 1 * *',
    maxLength: 120,
    description:
      'Five-field cron expression (minute hour day-of-month month day-of-week), read in `timeZone`. An `H` field takes a value of its own for each schedule, from its id.',
  })
  @IsString()
  @MaxLength(120)
  @IsCleanText(SINGLE_LINE)
  cron: string;

  @ApiProperty({ example: 'Europe/Berlin', maxLength: 64, description: 'IANA time zone; daylight saving time is followed.' })
  @IsString()
  @MaxLength(64)
  timeZone: string;

  @ApiProperty({
    type: () => MissionCreateDto,
    description:
      'The mission each firing creates: a POST /api/missions body, checked by the same rules, without `deadline` or `notBefore` ' +
      '(absolute times, which every firing would repeat).',
  })
  @IsObject()
  template: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_CATCH_UP_MS,
    example: 3_600_000,
    description: 'Missed firings older than this many ms are skipped and counted instead of created; default SCHEDULE_CATCH_UP_MS.',
  })
  @Omittable()
  @IsInt()
  @Min(0)
  @Max(MAX_CATCH_UP_MS)
  catchUpMs?: number;
}
