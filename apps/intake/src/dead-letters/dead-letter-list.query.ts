import { ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsOptional, ValidateBy } from 'class-validator';
import { SAFE_INTEGERS, WholeNumber } from '../http/whole-number.decorator';
import { ListMissionsQuery } from '../missions/list-missions.query';

/** The 400's problem for a page asked by both a cursor and an offset: they name two different places. */
export const CURSOR_WITH_OFFSET_PROBLEM = 'offset must not be given with cursor: the cursor says where the next page starts';

/**
 * The query of `GET /api/dlq`: whole numbers, or a 400 (`abc`, `1.5`, an empty one, one beyond
 * the safe integers, a parameter given twice), and the mission list's `cursor` (same format and checks). `offset` is the older
 * paging, kept for the clients that send it: it answers the bare list, and shifts under removals.
 */
export class DeadLetterListQuery extends PickType(ListMissionsQuery, ['cursor'] as const) {
  @ApiPropertyOptional({ type: 'integer', ...SAFE_INTEGERS, default: 50, example: 50, description: 'Page size; clamped to 1..200.' })
  @IsOptional()
  @WholeNumber()
  limit?: number;

  @ApiPropertyOptional({
    type: 'integer',
    ...SAFE_INTEGERS,
    example: 0,
    description:
      'The older paging, by position: how many entries to skip (negative counts as 0), answered as a bare array without `nextCursor`. ' +
      'Unstable: a dead letter requeued, cancelled or removed by retention before the next page moves the later ones up, and that page misses as many. ' +
      'Page with `cursor` instead; not together with it (a 400).',
  })
  @IsOptional()
  @WholeNumber()
  @ValidateBy({
    name: 'offsetWithoutCursor',
    validator: {
      validate: (_value: unknown, args) => (args?.object as DeadLetterListQuery | undefined)?.cursor === undefined,
      defaultMessage: () => CURSOR_WITH_OFFSET_PROBLEM,
    },
  })
  offset?: number;
}
