import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { WholeNumber } from './whole-number.decorator';

/** The `limit` query parameter of a paged list: a whole number from 1 to 200, 50 when absent. */
export function PageSize(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50, description: 'Page size.', example: 50 }),
    IsOptional(),
    WholeNumber({ min: 1, max: 200 }),
  );
}
