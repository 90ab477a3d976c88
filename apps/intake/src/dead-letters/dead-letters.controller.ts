import { Body, ConflictException, Controller, Get, HttpCode, HttpStatus, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { BULK_REQUEUE_MAX, DeadLetterEntry, Mission, MissionPage, timeBoundMs } from '@app/mission';
import { RequiresRole } from '../auth';
import { ApiCaller } from '../auth/api-caller.decorator';
import { ApiErrorResponses, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { ApiIdParam, IdPipe } from '../http/id.pipe';
import { DeadLetterPageView, DeadLetterView, MissionView, RequeuedView, SkippedRequeueView } from '../http/openapi-schemas';
import { QueryDto } from '../http/query-dto.decorator';
import { MissionCommandsService } from '../missions/mission-commands.service';
import { MissionQueryService } from '../missions/mission-query.service';
import { CURSOR_WITH_OFFSET_PROBLEM, DeadLetterListQuery } from './dead-letter-list.query';
import { RequeueFilterBody, UNFILTERED_REQUEUE_PROBLEM } from './requeue-filter.body';

@ApiTags('dead letters')
@ApiBearerAuth()
@ApiSecurity('api-key')
@RequiresRole('operator')
@Controller('api/dlq')
export class DeadLettersController {
  constructor(
    private readonly queries: MissionQueryService,
    private readonly commands: MissionCommandsService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List the dead-letter queue',
    description:
      'Needs role **operator**. Missions that used up their attempts, oldest dead-lettered first, in pages of `limit`; ' +
      'pass `nextCursor` back as `cursor` for the next page. The cursor names the last dead letter shown, so one requeued, cancelled or ' +
      'removed by retention between two pages skips no other. With `offset` (the older paging, by position) the answer is the bare array ' +
      'of the page, without a cursor, and a dead letter removed between two pages makes the next one miss an entry.',
  })
  @ApiExtraModels(DeadLetterPageView, DeadLetterView)
  @ApiOkResponse({
    schema: { oneOf: [{ $ref: getSchemaPath(DeadLetterPageView) }, { type: 'array', items: { $ref: getSchemaPath(DeadLetterView) } }] },
    description: 'A page of dead letters (DeadLetterPageView); with `offset`, the array of the page alone.',
    headers: RATE_LIMIT_HEADERS,
  })
  @ApiErrorResponses({
    role: 'operator',
    badRequest:
      'limit or offset is not a whole number (e.g. abc or 1.5), the cursor is not one this API issued for this list (start again without a cursor then), ' +
      'offset is given with cursor, or the query has another parameter.',
    invalidField: { field: 'offset', problem: CURSOR_WITH_OFFSET_PROBLEM },
  })
  list(@QueryDto() { limit = 50, offset, cursor }: DeadLetterListQuery): Promise<MissionPage<DeadLetterEntry> | DeadLetterEntry[]> {
    const size = Math.min(Math.max(limit, 1), 200);
    // An offset asks for the older answer, the bare array, which its clients read.
    if (offset !== undefined) return this.queries.deadLetters(size, Math.max(offset, 0));
    return this.queries.deadLetterPage(size, cursor);
  }

  /** Requeues every dead-lettered mission that matches the filter (oldest first, up to `limit`); a filter without a condition names `all`. */
  @Post('requeue')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Requeue dead-lettered missions in bulk',
    description:
      'Needs role **operator**. Requeues every dead-lettered mission that matches all given conditions, oldest first, up to `limit` ' +
      '(among the 1,000 oldest dead letters); each gets a MissionRequeued event and starts over from attempt 0. ' +
      'The body says what it takes: at least one condition (`type`, `deadLetteredBefore`, `errorContains`), or `"all": true` ' +
      'for the oldest dead letters without one (`limit` alone is no condition). Any other body, an empty or absent one included, ' +
      'is a 400 and requeues nothing.',
  })
  @ApiBody({ type: RequeueFilterBody })
  @ApiOkResponse({
    type: RequeuedView,
    description:
      'The ids of the requeued missions (empty when none matched), and those that matched but left the dead-letter queue while the ' +
      'requeue ran (requeued or cancelled concurrently) or whose guest data is damaged, each with why.',
    headers: RATE_LIMIT_HEADERS,
  })
  @ApiErrorResponses({
    role: 'operator',
    badRequest: 'The filter fails validation (`details` lists each bad field), or gives no condition and no `"all": true`.',
    invalidField: { field: 'all', problem: UNFILTERED_REQUEUE_PROBLEM },
    jsonBody: true,
  })
  async requeueMatching(@Body() filter: RequeueFilterBody, @ApiCaller() caller: string): Promise<RequeuedView> {
    const before = filter.deadLetteredBefore ? timeBoundMs(filter.deadLetteredBefore) : Infinity;
    // The filter needs no reasons: the entries alone, without a read of each mission's log.
    const candidates = (await this.queries.deadLetterEntries(BULK_REQUEUE_MAX)).filter(
      (entry) =>
        (!filter.type || entry.type === filter.type) &&
        Date.parse(entry.deadLetteredAt) < before &&
        (!filter.errorContains || (entry.lastError ?? '').includes(filter.errorContains)),
    );
    const requeued: string[] = [];
    const skipped: SkippedRequeueView[] = [];
    for (const entry of candidates.slice(0, filter.limit ?? 100)) {
      try {
        await this.commands.requeue(entry.missionId, filter.reason ?? 'bulk requeue', caller);
        requeued.push(entry.missionId);
      } catch (error) {
        // It left the dead letters since the list was read (requeued or cancelled by someone else),
        // or its guest data is damaged: said as such, and the rest go on, so the answer tells what
        // this request changed.
        if (!(error instanceof ConflictException || error instanceof NotFoundException)) throw error;
        skipped.push({ missionId: entry.missionId, reason: error.message });
      }
    }
    return { requeued, skipped };
  }

  /** A MissionRequeued event: MAX_ATTEMPTS more attempts may run. 409 when the mission is not dead-lettered. */
  @Post(':id/requeue')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Requeue one dead-lettered mission',
    description:
      'Needs role **operator**. Records a MissionRequeued event and puts the mission back in the ready queue; `attempts` keeps counting (attempt numbers stay unique) and MAX_ATTEMPTS more attempts may run (`attemptsAtRequeue` marks where they start). ' +
      'Takes no body. 409 when the mission is not dead-lettered, or when its guest data is damaged (nothing is recorded: an operator mends it first, or cancels the mission).',
  })
  @ApiIdParam('mission')
  @ApiOkResponse({ type: MissionView, description: 'The requeued mission, now queued.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'operator',
    notFound: 'No mission with this id.',
    id: 'mission',
    conflict:
      'The mission is not dead-lettered, or its guest data is damaged (it fails its integrity check where it is stored; the mission reads `unavailable`).',
    conflictExample: 'cannot requeue mission 01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e: mission is queued, not dead_lettered',
    noBody: true,
  })
  requeue(@Param('id', new IdPipe('mission')) id: string, @ApiCaller() caller: string): Promise<Mission> {
    return this.commands.requeue(id, 'requeued by operator', caller);
  }
}
