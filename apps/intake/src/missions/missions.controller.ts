import { BadRequestException, Body, Controller, Get, Headers, HttpCode, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import { Response } from 'express';
import { Mission, MissionCreateDto, MissionEvent } from '@app/mission';
import { QueueStats } from '@app/mission-queue';
import { CancelMissionBody } from './cancel-mission.body';
import { ListMissionsQuery, MissionPage } from './list-missions.query';
import { MissionCommandsService } from './mission-commands.service';
import { RequiresRole } from '../auth';
import { MissionIntakeService } from './mission-intake.service';
import { MissionQueryService } from './mission-query.service';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

@Controller('api/missions')
export class MissionsController {
  constructor(
    private readonly missions: MissionIntakeService,
    private readonly queries: MissionQueryService,
    private readonly commands: MissionCommandsService,
  ) {}

  @Get()
  list(@Query() query: ListMissionsQuery): Promise<MissionPage<Mission>> {
    return this.queries.list(query);
  }

  /** 201 with the new mission; 200 with the first one when the create repeats an earlier one. */
  @Post()
  @RequiresRole('submitter')
  async create(
    @Body() body: MissionCreateDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('x-correlation-id') correlationId: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<Mission> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new BadRequestException('Idempotency-Key must be 1 to 200 visible ASCII characters');
    }
    const outcome = await this.missions.create(body, {
      idempotencyKey,
      correlationId: correlationId && IDEMPOTENCY_KEY.test(correlationId) ? correlationId : undefined,
    });
    response.status(outcome.created ? HttpStatus.CREATED : HttpStatus.OK);
    return outcome.mission;
  }

  @Get('queue/stats')
  stats(): Promise<QueueStats> {
    return this.missions.stats();
  }

  /** 200 with the cancelled mission; 409 when it has already finished. */
  @Post(':id/cancel')
  @RequiresRole('submitter')
  @HttpCode(HttpStatus.OK)
  cancel(@Param('id') id: string, @Body() body: CancelMissionBody): Promise<Mission> {
    return this.commands.cancel(id, body.reason ?? 'cancelled by request', 'api');
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<Mission> {
    return this.missions.get(id);
  }

  @Get(':id/events')
  events(@Param('id') id: string): Promise<MissionEvent[]> {
    return this.missions.history(id);
  }
}
