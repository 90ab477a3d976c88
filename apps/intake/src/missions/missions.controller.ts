import {
  BadRequestException,
  ConflictException,
  NotFoundException,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { describeGap, gapsFoldedAcross, stateAt } from '@app/audit';
import { UnreadableStoredDataError } from '@app/event-store';
import {
  apiScope,
  CORRELATION_ID_PATTERN,
  CORRELATION_ID_RULE,
  IDEMPOTENCY_KEY_PATTERN,
  Mission,
  MissionCreateDto,
  MissionEvent,
  MissionPage,
  QueueStats,
  timeBoundMs,
  UnreadableMission,
  withErasuresOf,
} from '@app/mission';
import { ApiClient, OpenToClients, RequiresRole, seesMission } from '../auth';
import { ApiCaller, ApiCallerClient } from '../auth/api-caller.decorator';
import { ApiErrorResponses, LIST_SCAN_REFUSAL, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { CHANGED_STORED_DATA_REMEDY } from '../http/error-body.filter';
import { ApiIdParam, IdPipe } from '../http/id.pipe';
import { MissionEventView, MissionPageView, MissionView, QueueStatsView } from '../http/openapi-schemas';
import { QueryDto } from '../http/query-dto.decorator';
import { SingleHeader } from '../http/single-header.decorator';
import { ListScanInterceptor } from '../rate-limit/list-scan-limit';
import { CancelMissionBody } from './cancel-mission.body';
import { ListMissionsQuery } from './list-missions.query';
import { MissionCommandsService } from './mission-commands.service';
import { MissionIntakeService } from './mission-intake.service';
import { missionNotFound } from './mission-not-found';
import { MissionQueryService } from './mission-query.service';
import { EventRangeQuery, MissionAtQuery } from './time-travel.query';

const MISSION_ID_PARAM = ApiIdParam('mission');
const missionId = new IdPipe('mission');
const MISSION_NOT_FOUND = 'No mission with this id.';

@ApiTags('missions')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/missions')
export class MissionsController {
  constructor(
    private readonly missions: MissionIntakeService,
    private readonly queries: MissionQueryService,
    private readonly commands: MissionCommandsService,
  ) {}

  @Get()
  @OpenToClients()
  @ApiOperation({
    summary: 'List missions',
    description:
      'Needs role **reader** (any API key; a **client** key lists only the missions it created). Newest first, filtered by every given query parameter (`title`: contains, ignoring case), in pages of `limit`; ' +
      'pass `nextCursor` back as `cursor` for the next page. Pages stay stable while new missions arrive.',
  })
  @ApiOkResponse({ type: MissionPageView, description: 'A page of missions.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'reader',
    clients: true,
    badRequest:
      'A query parameter is invalid (unknown status/type/priority, an agentId that is no agent id, a time that is not ISO 8601, limit outside 1..200) or the cursor is not one this API issued for this list with these filters (start again without a cursor then).',
    invalidField: { field: 'limit', problem: 'limit must not be greater than 200' },
    tooManyRequests: LIST_SCAN_REFUSAL,
  })
  @UseInterceptors(ListScanInterceptor)
  list(@QueryDto() query: ListMissionsQuery, @ApiCallerClient() caller: ApiClient): Promise<MissionPage<Mission | UnreadableMission>> {
    return this.queries.list(query, caller);
  }

  /** 201 with the new mission; 200 with the first one when the create repeats an earlier one. */
  @Post()
  @RequiresRole('submitter')
  @OpenToClients()
  @ApiOperation({
    summary: 'Create a mission',
    description:
      'Needs role **submitter** (or operator, or **client**: a client key then reads, lists and cancels the missions it created, and no other). Records the mission, computes its priority score and queues it for an agent. ' +
      'Idempotent: a create that repeats an earlier one — the same `Idempotency-Key`, or without one the same ERP `source` record, ' +
      'both scoped to the sending API key — with the same body creates nothing and answers **200** with the first mission; a new mission is **201**. ' +
      '**422** when the key or source repeats with another body, when its record has expired (IDEMPOTENCY_TTL_SECONDS), ' +
      'when title + description + payload exceed MAX_MISSION_TEXT_BYTES, or when no registered agent has every skill the mission needs. ' +
      '**409** when a guest it names was erased each time the create made their data key: nothing was created, try again.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Makes retries safe. Scoped to the sending API key: a create that repeats this key with the same body returns the mission the first one created (200); ' +
      'with another body, or once the key has expired (IDEMPOTENCY_TTL_SECONDS), it is refused with 422. 1 to 200 visible ASCII characters, on one header line, else 400.',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source, maxLength: 200, example: 'odoo-helpdesk-4711-v1' },
  })
  @ApiHeader({
    name: 'X-Correlation-Id',
    required: false,
    description:
      "Becomes the mission's correlationId, carried in plain by its events and logs for good, beyond any guest's erasure, and shown to every key. " +
      `Ignored unless ${CORRELATION_ID_RULE} (no e-mail address); a new id is made then.`,
    schema: { type: 'string', pattern: CORRELATION_ID_PATTERN.source, maxLength: 200, example: 'odoo-helpdesk-4711' },
  })
  @ApiBody({ type: MissionCreateDto })
  @ApiCreatedResponse({ type: MissionView, description: 'The mission was created and queued.', headers: RATE_LIMIT_HEADERS })
  @ApiOkResponse({
    type: MissionView,
    description:
      'The create repeats an earlier one (same Idempotency-Key, or same source record): nothing new was created; this is the first mission, as it is now.',
    headers: RATE_LIMIT_HEADERS,
  })
  @ApiErrorResponses({
    role: 'submitter',
    clients: true,
    badRequest:
      'The body fails validation (`details` lists each bad field), or the Idempotency-Key is not 1 to 200 visible ASCII characters (`Idempotency-Key may be given only once` when it is sent more than once).',
    invalidField: { field: 'priority', problem: 'priority must be one of the following values: low, normal, high, critical' },
    unprocessable:
      'The create repeats an earlier one with another body, or its idempotency record expired, or its text is over MAX_MISSION_TEXT_BYTES, ' +
      "or no registered agent has every skill it needs (`requiredSkills`, or the type's defaults): register or update an agent first.",
    unprocessableExample: 'no registered agent has the skill sauna_repair: nobody could take this mission',
    conflict:
      'A guest the mission names was erased each time the create made their data key (5 tries, an erasure racing the create); nothing was created: try again.',
    conflictExample: "a data subject's key was erased each time it was made (5 times); try again",
    jsonBody: true,
  })
  async create(
    @Body() body: MissionCreateDto,
    @SingleHeader('Idempotency-Key') idempotencyKey: string | undefined,
    @Headers('x-correlation-id') correlationId: string | undefined,
    @ApiCaller() caller: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<Mission> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
      throw new BadRequestException('Idempotency-Key must be 1 to 200 visible ASCII characters');
    }
    const outcome = await this.missions.create(body, {
      actor: caller,
      scope: apiScope(caller),
      idempotencyKey,
      correlationId: correlationId && CORRELATION_ID_PATTERN.test(correlationId) ? correlationId : undefined,
    });
    response.status(outcome.created ? HttpStatus.CREATED : HttpStatus.OK);
    return outcome.mission;
  }

  @Get('queue/stats')
  @ApiOperation({
    summary: 'Queue statistics',
    description:
      'Needs role **reader** (any API key but a `client` key). Sizes of the ready queue, leases and dead-letter queue, missions per status, and lifetime counters.',
  })
  @ApiOkResponse({ type: QueueStatsView, description: 'Current queue statistics.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ role: 'reader' })
  stats(): Promise<QueueStats> {
    return this.missions.stats();
  }

  /** 200 with the cancelled mission; 409 when it has already finished. */
  @Post(':id/cancel')
  @RequiresRole('submitter')
  @OpenToClients()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Cancel a mission',
    description:
      'Needs role **submitter** (or operator, or **client** for a mission it created: another is a 404, as an unknown id). Cancels a mission that has not finished: it leaves the queue (or the dead-letter queue), ' +
      'its agent is freed and a running LLM call is aborted. The body is optional. 409 when the mission already succeeded or was cancelled.',
  })
  @MISSION_ID_PARAM
  @ApiBody({ type: CancelMissionBody, required: false })
  @ApiOkResponse({ type: MissionView, description: 'The cancelled mission.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'submitter',
    clients: true,
    badRequest: 'The body fails validation (reason not a string, or longer than 500 characters).',
    invalidField: { field: 'reason', problem: 'reason must be shorter than or equal to 500 characters' },
    notFound: MISSION_NOT_FOUND,
    id: 'mission',
    conflict: 'The mission has already finished (succeeded or cancelled).',
    conflictExample: 'cannot cancel mission 01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e: mission is already succeeded',
    jsonBody: true,
  })
  async cancel(@Param('id', missionId) id: string, @Body() body: CancelMissionBody, @ApiCallerClient() caller: ApiClient): Promise<Mission> {
    // Who created a mission never changes, so checking before the cancel leaves no race.
    await this.assertSees(id, caller);
    return this.commands.cancel(id, body.reason ?? 'cancelled by request', caller.name);
  }

  @Get(':id')
  @OpenToClients()
  @ApiOperation({
    summary: 'Get a mission',
    description:
      'Needs role **reader** (any API key; a **client** key only a mission it created: another is a 404, as an unknown id). The mission as projected from its events; with `at`, as it was then, and with `version`, as it was at that version (events appended together share their time: only a version names each), folded from its events. ' +
      '**409** when that fold would pass over versions missing from the event log (a log changed where it is stored): ' +
      'the message names them, and no state is given, as it would be one the mission never had.',
  })
  @MISSION_ID_PARAM
  @ApiOkResponse({ type: MissionView, description: 'The mission.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'reader',
    clients: true,
    notFound: MISSION_NOT_FOUND,
    id: 'mission',
    badRequest: '`at` is not an ISO 8601 time, or `version` not a whole number from 1.',
    invalidField: { field: 'at', problem: 'at must be a valid ISO 8601 date string' },
    conflict:
      'With `at` or `version`: versions of the mission up to that time are missing from the event log (an event deleted where it is stored; a deleted last event ' +
      'counts for any time after the last one left, as its time is unknown). No state is folded across them; `replay verify` finds what changed.',
    conflictExample:
      'mission 01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e at 2026-11-26T10:00:00Z: v3 missing from the log; no state is folded across it (`replay verify` finds what changed)',
  })
  async get(@Param('id', missionId) id: string, @QueryDto() query: MissionAtQuery, @ApiCallerClient() caller: ApiClient): Promise<Mission> {
    await this.assertSees(id, caller);
    if (!query.at && query.version === undefined) return this.missions.get(id);
    const point = { at: query.at ? new Date(query.at) : undefined, version: query.version };
    const named = [query.at && `at ${query.at}`, query.version !== undefined && `at version ${query.version}`].filter(Boolean).join(', ');
    const { events, listed } = await this.missions.historyAndListed(id);
    const last = Math.max(listed, ...events.map((event) => event.version));
    if (query.version !== undefined && query.version > last) throw new NotFoundException(`mission ${id} has no version ${query.version}: its last is ${last}`);
    // A fold across a deleted event is a state the mission never had: said, not answered (as `replay state` does).
    const crossed = gapsFoldedAcross(events, point, listed);
    if (crossed.length > 0) {
      throw new ConflictException(
        `mission ${id} ${named}: ${crossed.map(describeGap).join(', ')}; no state is folded across it (\`replay verify\` finds what changed)`,
      );
    }
    const state = stateAt(events, point);
    if (!state) throw new NotFoundException(`mission ${id} did not exist ${query.at ? `at ${query.at}` : 'at that version'}`);
    // An erasure reaches back: the mission as it was names the subjects erased since, so its fields
    // read [erased] even where another process's cache still holds a destroyed key.
    return withErasuresOf(state, await this.missions.get(id));
  }

  @Get(':id/events')
  @OpenToClients()
  @ApiOperation({
    summary: "A mission's event history",
    description:
      'Needs role **reader** (any API key; a **client** key only a mission it created: another is a 404, as an unknown id). Every event of the mission, oldest first (version 1, 2, …), each in its envelope.',
  })
  @MISSION_ID_PARAM
  @ApiOkResponse({ type: [MissionEventView], description: 'The events, oldest first.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'reader',
    clients: true,
    notFound: MISSION_NOT_FOUND,
    id: 'mission',
    badRequest: '`from` or `to` is not an ISO 8601 time.',
    invalidField: { field: 'from', problem: 'from must be a valid ISO 8601 date string' },
    conflictExample: `mission 01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e: its event v7 (1764147600000-0) cannot be read: a MissionFailed without data.attempt (a number); ${CHANGED_STORED_DATA_REMEDY}`,
  })
  async events(@Param('id', missionId) id: string, @QueryDto() range: EventRangeQuery, @ApiCallerClient() caller: ApiClient): Promise<MissionEvent[]> {
    await this.assertSees(id, caller);
    const events = await this.missions.history(id);
    const from = range.from ? timeBoundMs(range.from) : -Infinity;
    const to = range.to ? timeBoundMs(range.to) : Infinity;
    return events.filter((event) => Date.parse(event.at) >= from && Date.parse(event.at) < to);
  }

  /**
   * A 404 unless the caller may see the mission (seesMission): another's is the 404 of an unknown
   * id, word for word, so a client key cannot tell that it exists. Only a client key's call reads
   * the mission for it, so every other role's calls stay exactly as they were. One whose stored
   * state cannot be read cannot be told to be the caller's: a 404 too, rather than the 409 that
   * would tell a client key that it exists (the operator's routes and lists name it).
   */
  private async assertSees(id: string, caller: ApiClient): Promise<void> {
    if (caller.role !== 'client') return;
    const mission = await this.missions.get(id).catch((error: unknown) => {
      throw error instanceof UnreadableStoredDataError ? missionNotFound(id) : error;
    });
    if (!seesMission(caller, mission)) throw missionNotFound(id);
  }
}
