import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { PER_MINUTE_KEPT_MINUTES } from '@app/event-store';
import { WholeNumber } from '../http/whole-number.decorator';

export class ThroughputQuery {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: PER_MINUTE_KEPT_MINUTES,
    default: 15,
    description: 'How many full minutes, the last one first back.',
    example: 15,
  })
  @IsOptional()
  @WholeNumber({ min: 1, max: PER_MINUTE_KEPT_MINUTES })
  minutes?: number;
}
