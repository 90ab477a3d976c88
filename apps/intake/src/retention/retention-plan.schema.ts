import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MISSION_STATUSES, MISSION_TYPES, MissionStatus, MissionType } from '@app/mission';
import { RetentionCandidate, RetentionKept, RetentionMissionView, RetentionPassedOver, RetentionRun } from './retention.service';

/* Documentation-only classes for the OpenAPI document: the API returns plain objects. */

export class RetentionMissionSchema implements RetentionMissionView {
  @ApiProperty({ example: '0196a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b' }) missionId: string;
  @ApiProperty({ enum: MISSION_TYPES, example: 'guest_support' }) type: MissionType;
  @ApiProperty({ enum: MISSION_STATUSES, example: 'succeeded' }) status: MissionStatus;
  @ApiPropertyOptional({ format: 'date-time', description: 'When it finished (succeeded or cancelled); absent while unfinished.' }) finishedAt?: string;
}

export class RetentionCandidateSchema implements RetentionCandidate {
  @ApiProperty({ example: 'guest:4711' }) subjectId: string;
  @ApiProperty({ example: 'retention policy 90 days', description: 'The reason its SubjectErased events carry: the longest retention among its missions.' })
  reason: string;
  @ApiProperty({ type: [RetentionMissionSchema], description: 'Every mission that still holds data about the subject.' }) missions: RetentionMissionSchema[];
}

export class RetentionKeptSchema implements RetentionKept {
  @ApiProperty({ example: 'guest:4711' }) subjectId: string;
  @ApiProperty({
    example: 'mission 0196a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b is dead-lettered since 2026-03-01T09:30:00.000Z: requeue or cancel it',
    description:
      'The first mission that keeps it, a dead letter before any other: `mission <id> is dead-lettered since <time>: requeue or cancel it` (an operator must act), `mission <id> is <status>` while under way, ' +
      '`mission <id> (<type>, <days> days) is kept until <time>` while within its days.',
  })
  reason: string;
}

export class RetentionPassedOverSchema implements RetentionPassedOver {
  @ApiProperty({ example: '0196a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b' }) missionId: string;
  @ApiProperty({
    example: 'mission 0196a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b: its state in the read model (s) is not JSON',
    description: 'Why its stored data cannot be read (changed by hand): `replay verify` names what changed, `replay rebuild` mends it.',
  })
  reason: string;
}

class RetentionDaysSchema {
  @ApiProperty({ example: 90 }) guest_support: number;
  @ApiProperty({ example: 365 }) pricing: number;
  @ApiProperty({ example: 365 }) maintenance: number;
}

export class RetentionPlanSchema {
  @ApiProperty({ format: 'date-time', description: 'The time the plan was made for.' }) at: string;
  @ApiProperty({ type: RetentionDaysSchema, description: 'Days kept per mission type (RETENTION_DAYS and its defaults).' }) days: RetentionDaysSchema;
  @ApiProperty({ type: [RetentionCandidateSchema], description: "Subjects whose missions are all finished and past their type's days." })
  erase: RetentionCandidateSchema[];
  @ApiProperty({
    type: [RetentionKeptSchema],
    description:
      "Subjects with a mission past its days that another of their missions keeps, and those of a dead-lettered mission past its type's days, which keeps them until it is requeued or cancelled.",
  })
  kept: RetentionKeptSchema[];
  @ApiProperty({
    type: [RetentionPassedOverSchema],
    description:
      'Missions past their days whose stored data cannot be read: the subjects they are about cannot be told, so they are in neither erase nor kept, and none is erased for them, until `replay rebuild` has mended them.',
  })
  passedOver: RetentionPassedOverSchema[];
}

export class RetentionRunSchema extends RetentionPlanSchema implements Pick<RetentionRun, 'erased' | 'failed'> {
  @ApiProperty({ type: [String], example: ['guest:4711'], description: 'Subjects erased by this run.' }) erased: string[];
  @ApiProperty({ type: 'array', items: { type: 'object', properties: { subjectId: { type: 'string' }, error: { type: 'string' } } } })
  failed: { subjectId: string; error: string }[];
}
