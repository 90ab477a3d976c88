import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsIsoTime } from '@app/mission';

export class RetentionPlanQuery {
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Plan for this time instead of now (ISO 8601), e.g. to see whom a round next month would erase. Only the dry run takes it.',
    example: '2027-01-01T00:00:00Z',
  })
  @IsOptional()
  @IsIsoTime()
  at?: string;
}
