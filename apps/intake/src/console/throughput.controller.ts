import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { MinuteThroughput, ReadyQueue } from '@app/mission-queue';
import { ApiErrorResponses, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { QueryDto } from '../http/query-dto.decorator';
import { MinuteThroughputView } from './console-views';
import { ThroughputQuery } from './throughput.query';

@ApiTags('missions')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/missions/queue/throughput')
export class ThroughputController {
  constructor(private readonly queue: ReadyQueue) {}

  @Get()
  @ApiOperation({
    summary: 'Queue throughput per minute',
    description:
      'Needs role **reader** (any API key but a `client` key). Missions enqueued and dequeued in each of the last full minutes (up to an hour), oldest first.',
  })
  @ApiOkResponse({ type: [MinuteThroughputView], description: 'One entry per minute.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'reader',
    badRequest: '`minutes` is not a whole number from 1 to 60.',
    invalidField: { field: 'minutes', problem: 'minutes must not be greater than 60' },
  })
  throughput(@QueryDto() query: ThroughputQuery): Promise<MinuteThroughput[]> {
    return this.queue.throughput(query.minutes ?? 15);
  }
}
