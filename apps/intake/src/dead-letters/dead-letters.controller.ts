import { Body, Controller, Get, HttpCode, HttpStatus, Param, ParseIntPipe, Post, Query, DefaultValuePipe } from '@nestjs/common';
import { Mission } from '@app/mission';
import { MissionCommandsService } from '../missions/mission-commands.service';
import { DeadLetterEntry, MissionQueryService } from '../missions/mission-query.service';
import { RequiresRole } from '../auth';
import { RequeueFilterBody } from './requeue-filter.body';

@RequiresRole('operator')
@Controller('api/dlq')
export class DeadLettersController {
  constructor(
    private readonly queries: MissionQueryService,
    private readonly commands: MissionCommandsService,
  ) {}

  @Get()
  list(
    @Query('limit', new DefaultValuePipe(50), ParseIntPipe) limit: number,
    @Query('offset', new DefaultValuePipe(0), ParseIntPipe) offset: number,
  ): Promise<DeadLetterEntry[]> {
    return this.queries.deadLetters(Math.min(Math.max(limit, 1), 200), Math.max(offset, 0));
  }

  /** Requeues every dead-lettered mission that matches the filter (oldest first, up to `limit`). */
  @Post('requeue')
  @HttpCode(HttpStatus.OK)
  async requeueMatching(@Body() filter: RequeueFilterBody): Promise<{ requeued: string[] }> {
    const before = filter.deadLetteredBefore ? Date.parse(filter.deadLetteredBefore) : Infinity;
    const candidates = (await this.queries.deadLetters(1_000)).filter(
      (entry) =>
        (!filter.type || entry.type === filter.type) &&
        Date.parse(entry.deadLetteredAt) < before &&
        (!filter.errorContains || (entry.lastError ?? '').includes(filter.errorContains)),
    );
    const requeued: string[] = [];
    for (const entry of candidates.slice(0, filter.limit ?? 100)) {
      await this.commands.requeue(entry.missionId, filter.reason ?? 'bulk requeue', 'api');
      requeued.push(entry.missionId);
    }
    return { requeued };
  }

  /** A MissionRequeued event: attempts start again from zero. 409 when the mission is not dead-lettered. */
  @Post(':id/requeue')
  @HttpCode(HttpStatus.OK)
  requeue(@Param('id') id: string): Promise<Mission> {
    return this.commands.requeue(id, 'requeued by operator', 'api');
  }
}
