import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional } from 'class-validator';

/** The query of `GET /api/dlq`: whole numbers, or a 400 (`abc`, `1.5`, a parameter given twice). */
export class DeadLetterListQuery {
  @ApiPropertyOptional({ type: 'integer', default: 50, example: 50, description: 'Page size; clamped to 1..200.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  limit?: number;

  @ApiPropertyOptional({ type: 'integer', default: 0, example: 0, description: 'How many entries to skip; negative counts as 0.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  offset?: number;
}
