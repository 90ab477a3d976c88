import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RequiresRole } from '../auth';
import { ApiCaller } from '../auth/api-caller.decorator';
import { ApiErrorResponses, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { ApiIdParam, IdPipe } from '../http/id.pipe';
import { CreateScheduleBody } from './create-schedule.body';
import { ScheduleCommandsService, ScheduleView } from './schedule-commands.service';
import { ScheduleEvent } from './schedule-events';
import { ScheduleEventSchema, ScheduleViewSchema } from './schedule-view.schema';

const scheduleId = new IdPipe('schedule');
const NOT_FOUND = 'No live schedule has this id.';

@ApiTags('schedules')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/schedules')
export class SchedulesController {
  constructor(private readonly schedules: ScheduleCommandsService) {}

  @Get()
  @RequiresRole('operator')
  @ApiOperation({ summary: 'List schedules', description: 'Needs role **operator**. Every live recurring schedule, by id, with when it fires next.' })
  @ApiOkResponse({ type: [ScheduleViewSchema], description: 'The live schedules.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ role: 'operator' })
  list(): Promise<ScheduleView[]> {
    return this.schedules.list();
  }

  @Get(':id')
  @RequiresRole('operator')
  @ApiIdParam('schedule')
  @ApiOperation({
    summary: 'Get a schedule',
    description:
      'Needs role **operator**. The schedule, what it fired and skipped so far, and when it fires next. A deleted schedule is a 404; its events stay.',
  })
  @ApiOkResponse({ type: ScheduleViewSchema, description: 'The schedule.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ role: 'operator', notFound: NOT_FOUND, id: 'schedule' })
  get(@Param('id', scheduleId) id: string): Promise<ScheduleView> {
    return this.schedules.get(id);
  }

  @Get(':id/events')
  @RequiresRole('operator')
  @ApiIdParam('schedule')
  @ApiOperation({
    summary: "A schedule's events",
    description: 'Needs role **operator**. ScheduleCreated, ScheduleFired, ScheduleSkipped and ScheduleDeleted, oldest first; kept after a delete.',
  })
  @ApiOkResponse({ type: [ScheduleEventSchema], description: 'The events, oldest first.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ role: 'operator', notFound: 'No schedule ever had this id.', id: 'schedule' })
  history(@Param('id', scheduleId) id: string): Promise<ScheduleEvent[]> {
    return this.schedules.history(id);
  }

  @Post()
  @RequiresRole('operator')
  @ApiOperation({
    summary: 'Create a recurring schedule',
    description:
      'Needs role **operator**. Appends ScheduleCreated. At every due time of `cron` in `timeZone` the intake creates one mission from `template` ' +
      '(ScheduleFired); due times missed by more than the catch-up window are skipped and counted (ScheduleSkipped). ' +
      'A bad cron, an unknown time zone or a template that POST /api/missions would refuse is a 400 and stores nothing; ' +
      'a template whose skills no registered agent has is a 422, as it is for POST /api/missions.',
  })
  @ApiCreatedResponse({ type: ScheduleViewSchema, description: 'The new schedule.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'operator',
    badRequest: 'The body fails validation: a bad cron expression, an unknown time zone, or a template that is not a valid mission create body.',
    invalidField: { field: 'timeZone', problem: 'timeZone "Europe/Berlim" is not an IANA time zone (e.g. Europe/Berlin, UTC)' },
    unprocessable:
      "No registered agent has every skill the template's missions need (`requiredSkills`, or the type's defaults): every firing would be refused. " +
      'Register or update an agent first.',
    unprocessableExample: 'no registered agent has the skill sauna_repair: nobody could take this mission',
    jsonBody: true,
  })
  create(@Body() body: CreateScheduleBody, @ApiCaller() caller: string): Promise<ScheduleView> {
    return this.schedules.create(body, caller);
  }

  @Delete(':id')
  @RequiresRole('operator')
  @HttpCode(HttpStatus.OK)
  @ApiIdParam('schedule')
  @ApiOperation({
    summary: 'Delete a schedule',
    description:
      'Needs role **operator**. Appends ScheduleDeleted: once this has answered, the schedule creates no mission any more; the missions it created stay. ' +
      'A mission a firing created while the delete ran is recorded as ScheduleFired just before ScheduleDeleted (so in `fired` and `lastMissionId`). ' +
      'A deleted schedule is a 404 here and at GET /api/schedules/{id}, as an unknown id; its events stay at GET /api/schedules/{id}/events.',
  })
  @ApiOkResponse({ type: ScheduleViewSchema, description: 'The schedule as it was deleted (with `deletedAt`).', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'operator',
    notFound: NOT_FOUND,
    id: 'schedule',
    conflict: 'The schedule fired while it was being deleted: delete it again.',
    conflictExample: 'schedule 0196a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b was changed concurrently; reload and retry',
    noBody: true,
  })
  delete(@Param('id', scheduleId) id: string, @ApiCaller() caller: string): Promise<ScheduleView> {
    return this.schedules.delete(id, caller);
  }
}
