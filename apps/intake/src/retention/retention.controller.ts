import { Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RequiresRole } from '../auth';
import { ApiCaller } from '../auth/api-caller.decorator';
import { ApiErrorResponses, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { QueryDto } from '../http/query-dto.decorator';
import { RetentionPlanQuery } from './retention-plan.query';
import { RetentionPlanSchema, RetentionRunSchema } from './retention-plan.schema';
import { RetentionPlan, RetentionRun, RetentionService } from './retention.service';

@ApiTags('subjects')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/retention')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Get()
  @RequiresRole('operator')
  @ApiOperation({
    summary: 'Retention dry run',
    description:
      'Needs role **operator**. The data subjects a retention round would erase now (every mission about them finished and past its ' +
      "type's RETENTION_DAYS), with their missions, and those kept by another mission or by a dead-lettered mission past its days, with why; " +
      'with `at`, at that time instead. ' +
      'Reads only; changes nothing.',
  })
  @ApiOkResponse({ type: RetentionPlanSchema, description: 'What a round would do then.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'operator',
    badRequest: '`at` is not an ISO 8601 time.',
    invalidField: { field: 'at', problem: 'at must be a valid ISO 8601 date string' },
  })
  plan(@QueryDto() query: RetentionPlanQuery): Promise<RetentionPlan> {
    return this.retention.plan(query.at ? new Date(query.at) : new Date());
  }

  @Post('run')
  @HttpCode(HttpStatus.OK)
  @RequiresRole('operator')
  @ApiOperation({
    summary: 'Run retention now',
    description:
      'Needs role **operator**. Runs a retention round now, as the intake does every RETENTION_CHECK_MS: each subject of the dry run is ' +
      "erased as by DELETE /api/subjects/{subjectId}, with the caller as actor (the timer's rounds: `retention`) and reason " +
      '`retention policy <days> days`. Takes no body; GET /api/retention is the dry run.',
  })
  @ApiOkResponse({ type: RetentionRunSchema, description: 'What the round erased and kept.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ role: 'operator', noBody: true, invalidField: { field: 'body', problem: 'this route takes no body: send none, or {}' } })
  run(@ApiCaller() caller: string): Promise<RetentionRun> {
    return this.retention.run(new Date(), caller);
  }
}
