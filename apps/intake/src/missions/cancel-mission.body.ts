import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class CancelMissionBody {
  @ApiPropertyOptional({
    maxLength: 500,
    description: 'Why; recorded in the MissionCancelled event. Defaults to "cancelled by request".',
    example: 'guest checked out',
  })
  @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}
