import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsCleanText, SINGLE_LINE } from '@app/mission';

export class CancelMissionBody {
  @ApiPropertyOptional({
    maxLength: 500,
    description: 'Why; recorded in the MissionCancelled event. One line of text (no control characters or bidi overrides). Defaults to "cancelled by request".',
    example: 'guest checked out',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  @IsCleanText(SINGLE_LINE)
  reason?: string;
}
