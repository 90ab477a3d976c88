import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { IsCleanText, IsKeptInPlain, KEPT_IN_PLAIN_PATTERN, Omittable, SINGLE_LINE } from '@app/mission';

export class CancelMissionBody {
  @ApiPropertyOptional({
    maxLength: 500,
    pattern: KEPT_IN_PLAIN_PATTERN,
    description:
      'Why; recorded in the MissionCancelled event, in plain, so it must not name the guest. One line of text (no control characters or bidi overrides), ' +
      'without an `@`. Defaults to "cancelled by request".',
    example: 'guest checked out',
  })
  @Omittable()
  @IsString()
  @MaxLength(500)
  @IsCleanText(SINGLE_LINE)
  @IsKeptInPlain()
  reason?: string;
}
