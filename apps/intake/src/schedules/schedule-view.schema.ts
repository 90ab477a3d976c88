import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MissionCreateDto } from '@app/mission';
import { ScheduleView } from './schedule-commands.service';
import { ScheduleEvent } from './schedule-events';

/* Documentation-only classes for the OpenAPI document: the API returns plain objects. */

export class ScheduleViewSchema implements ScheduleView {
  @ApiProperty({ example: '0196a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b' }) id: string;
  @ApiProperty({ example: '0 6 1 * *' }) cron: string;
  @ApiProperty({ example: 'Europe/Berlin' }) timeZone: string;
  @ApiProperty({ type: () => MissionCreateDto, description: 'The mission each firing creates.' }) template: MissionCreateDto;
  @ApiProperty({ type: Number, nullable: true, description: "The schedule's catch-up window in ms; null = SCHEDULE_CATCH_UP_MS." })
  catchUpMs: number | null;
  @ApiProperty({ description: 'Version of the schedule (its events so far)' }) version: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ description: 'Name of the API key that created it; the actor of the missions it creates.' }) createdBy: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'The last due time fired or skipped; null before the first.' })
  lastDueAt: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The mission the last firing created.' }) lastMissionId: string | null;
  @ApiProperty({ description: 'Missions created so far, one per due time.' }) fired: number;
  @ApiProperty({ description: 'Due times skipped so far (missed by more than the catch-up window, or refused).' }) skipped: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it fires next; null once deleted.' }) nextDueAt: string | null;
  @ApiPropertyOptional({ format: 'date-time', description: 'Only in the answer to DELETE: when it was deleted.' }) deletedAt?: string;
}

export class ScheduleEventSchema {
  @ApiProperty({ enum: ['ScheduleCreated', 'ScheduleFired', 'ScheduleSkipped', 'ScheduleDeleted'] }) type: ScheduleEvent['type'];
  @ApiProperty() scheduleId: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ description: 'The API key name, or intake:schedule for firings.' }) actor: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'ScheduleCreated: the definition; ScheduleFired: {dueAt, missionId}; ScheduleSkipped: {count, from, to, reason}; ScheduleDeleted: {}.',
  })
  data: Record<string, unknown>;
}
