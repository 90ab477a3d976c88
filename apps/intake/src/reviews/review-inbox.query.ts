import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { MISSION_TYPES, MissionType, PRIORITY_LEVELS, PriorityLevel } from '@app/mission';

export class ReviewInboxQuery {
  @ApiPropertyOptional({ enum: [...MISSION_TYPES], enumName: 'MissionType', description: 'Only missions of this type.', example: 'guest_support' })
  @IsOptional()
  @IsIn(MISSION_TYPES)
  type?: MissionType;

  @ApiPropertyOptional({ enum: [...PRIORITY_LEVELS], enumName: 'PriorityLevel', description: 'Only missions of this priority level.', example: 'high' })
  @IsOptional()
  @IsIn(PRIORITY_LEVELS)
  priority?: PriorityLevel;

  @ApiPropertyOptional({
    pattern: '^[A-Za-z0-9_-]{1,200}$',
    description: 'Opaque: the `nextCursor` of the previous page, with the same filters. Anything else is a 400.',
    example: 'W3sicyI6MTc0NjA5MTgwMDAwMCwiayI6MX1d',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor is not a cursor this API issued' })
  cursor?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50, description: 'Page size.', example: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}
