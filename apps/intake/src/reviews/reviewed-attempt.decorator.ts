import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { Omittable } from '@app/mission';

/** The optional `attempt` of a review decision: the attempt whose result the reviewer looked at. */
export function ReviewedAttempt(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      minimum: 1,
      // A larger JSON number is not exact: it would be read as another attempt than the one sent.
      maximum: Number.MAX_SAFE_INTEGER,
      description:
        'The attempt whose result the reviewer looked at (`attempts` of the mission as read). Given, the decision is taken only while ' +
        'that result is under review: a 409 once another reviewer rejected it and a newer attempt is under review.',
      example: 1,
    }),
    Omittable(),
    IsInt(),
    Min(1),
    Max(Number.MAX_SAFE_INTEGER),
  );
}
