import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsIsoTime } from '@app/mission';
import { WholeNumber } from '../http/whole-number.decorator';

export class MissionAtQuery {
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'The mission as it was at this time, folded from its events (ISO 8601)',
    example: '2026-11-26T10:00:00Z',
  })
  @IsOptional()
  @IsIsoTime()
  at?: string;

  // Events appended together share their time (created and queued, a verdict and its review
  // request): a time names the last of them, a version each one.
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    // A larger one is not exact: it would be read, and quoted back, as another version.
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'The mission as it was at this version, folded from its first events up to it; with `at`, the earlier of the two',
    example: 3,
  })
  @IsOptional()
  @WholeNumber({ min: 1 })
  version?: number;
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
