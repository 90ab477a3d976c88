import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { WholeNumber } from '../http/whole-number.decorator';

/** The query of `GET /api/dlq`: whole numbers, or a 400 (`abc`, `1.5`, an empty one, a parameter given twice). */
export class DeadLetterListQuery {
  @ApiPropertyOptional({ type: 'integer', default: 50, example: 50, description: 'Page size; clamped to 1..200.' })
  @IsOptional()
  @WholeNumber()
  limit?: number;

  @ApiPropertyOptional({ type: 'integer', default: 0, example: 0, description: 'How many entries to skip; negative counts as 0.' })
  @IsOptional()
  @WholeNumber()
  offset?: number;
}
