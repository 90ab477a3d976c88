import { BadRequestException, Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { MISSION_TYPES } from '@app/mission';
import { DailyReport, DailyReportReader } from '@app/projections';
import { ApiErrorResponses, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { DailyReportView } from '../http/openapi-schemas';
import { QueryDto } from '../http/query-dto.decorator';
import { DailyReportQuery } from './daily-report.query';

const DAY_MS = 24 * 60 * 60 * 1000;
/** A year, leap day included: enough for any report, small enough for one HMGET. */
const MAX_DAYS = 366;
const DEFAULT_DAYS = 7;

@ApiTags('reports')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/reports')
export class ReportsController {
  constructor(private readonly daily: DailyReportReader) {}

  @Get('daily')
  @ApiOperation({
    summary: 'Daily report per mission type',
    description:
      'Needs role **reader**. Per UTC day and mission type: missions created, attempts run and failed, evaluations and their mean score, ' +
      'successes, dead letters, requeues, cancellations, LLM tokens and cost. Each event counts on the day it happened. ' +
      'Projected from the event log asynchronously: `lagEvents` says how many log entries are not in it yet (0 = up to date).',
  })
  @ApiOkResponse({ type: DailyReportView, description: 'Every day of the range for every type asked for, zeros included.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'reader',
    badRequest: `from or to is not a YYYY-MM-DD day, type is not a mission type, from is after to, or the range is longer than ${MAX_DAYS} days.`,
    invalidField: { field: 'from', problem: 'from must be a UTC day as YYYY-MM-DD, e.g. 2026-05-01' },
  })
  report(@QueryDto() query: DailyReportQuery): Promise<DailyReport> {
    const to = query.to ?? new Date().toISOString().slice(0, 10);
    const from = query.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
    const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
    if (days < 1) throw invalid('to', `to (${to}) must not be before from (${from})`);
    if (days > MAX_DAYS) throw invalid('from', `the range from ${from} to ${to} is ${days} days; at most ${MAX_DAYS}`);
    return this.daily.read(from, to, query.type ? [query.type] : MISSION_TYPES);
  }
}

function invalid(field: string, problem: string): BadRequestException {
  return new BadRequestException({ message: 'request validation failed', details: [{ field, problems: [problem] }] });
}
