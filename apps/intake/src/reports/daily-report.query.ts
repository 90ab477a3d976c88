import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { IsIsoTime, MISSION_TYPES, MissionType } from '@app/mission';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MESSAGE = (field: string) => `${field} must be a UTC day as YYYY-MM-DD, e.g. 2026-05-01`;

export class DailyReportQuery {
  @ApiPropertyOptional({
    format: 'date',
    pattern: DAY.source,
    description: 'First UTC day of the report (YYYY-MM-DD). Default: six days before `to`.',
    example: '2026-05-01',
  })
  @IsOptional()
  @Matches(DAY, { message: DAY_MESSAGE('from') })
  @IsIsoTime({ message: 'from is not a calendar day' })
  from?: string;

  @ApiPropertyOptional({
    format: 'date',
    pattern: DAY.source,
    description: 'Last UTC day of the report (YYYY-MM-DD), included. Default: today (UTC).',
    example: '2026-05-07',
  })
  @IsOptional()
  @Matches(DAY, { message: DAY_MESSAGE('to') })
  @IsIsoTime({ message: 'to is not a calendar day' })
  to?: string;

  @ApiPropertyOptional({
    enum: [...MISSION_TYPES],
    enumName: 'MissionType',
    description: 'Only this mission type; all three by default.',
    example: 'maintenance',
  })
  @IsOptional()
  @IsIn(MISSION_TYPES)
  type?: MissionType;
}
