import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsIsoTime } from '@app/mission';

export class MissionAtQuery {
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'The mission as it was at this time, folded from its events (ISO 8601)',
    example: '2026-11-26T10:00:00Z',
  })
  @IsOptional()
  @IsIsoTime()
  at?: string;
}

export class EventRangeQuery {
  @ApiPropertyOptional({ format: 'date-time', description: 'Only events at or after this time (ISO 8601)', example: '2026-05-01T00:00:00Z' })
  @IsOptional()
  @IsIsoTime()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Only events before this time (ISO 8601)', example: '2026-05-02T00:00:00Z' })
  @IsOptional()
  @IsIsoTime()
  to?: string;
}
