import { ApiProperty } from '@nestjs/swagger';
import { MissionStatus } from '@app/mission';
import { EXAMPLE_MISSION_ID, MISSION_STATUS_ENUM, MissionView } from '../http/openapi-schemas';

/** What an erasure did to one of the subject's missions. */
export class ErasedMissionView {
  @ApiProperty({ description: 'Mission id.', example: EXAMPLE_MISSION_ID })
  missionId: string;

  @ApiProperty({
    description: 'Whether this request recorded SubjectErased on the mission (false: an earlier request did, or the mission is not found).',
    example: true,
  })
  recorded: boolean;

  @ApiProperty({
    ...MISSION_STATUS_ENUM,
    description: 'The mission status after the erasure: a mission not finished is cancelled with it; absent when the mission is not found.',
    example: 'cancelled',
    required: false,
  })
  status?: MissionStatus;
}

export class SubjectErasureView {
  @ApiProperty({ example: 'guest:4711' })
  subjectId: string;

  @ApiProperty({ description: 'Whether this request destroyed the data key (false: an earlier request did).', example: true })
  keyDestroyed: boolean;

  @ApiProperty({ type: () => [ErasedMissionView], description: "The subject's missions, by id." })
  missions: ErasedMissionView[];
}

/** One personal field of a mission, in plain (or `[erased]`, or `[unavailable]`). */
export class PersonalFieldView {
  @ApiProperty({ description: 'Where the field is in the mission, e.g. `payload.guest.email` or `result.output.reply`.', example: 'payload.guest.email' })
  field: string;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description: 'The value, or "[erased]" once its subject is erased ("[unavailable]" when it cannot be opened: see unavailable).',
    example: 'anna.schmidt@example.com',
  })
  value: string | string[];
}

export class SubjectMissionView {
  @ApiProperty({ type: () => MissionView, description: 'The mission as the API shows it, personal fields in plain (or "[erased]").' })
  mission: MissionView;

  @ApiProperty({ type: () => [PersonalFieldView], description: 'Every personal field the mission holds (README, Guest data).' })
  personalData: PersonalFieldView[];

  @ApiProperty({
    required: false,
    description:
      'Present when some of the mission\'s guest data cannot be opened, as it was altered where it is stored: those fields read "[unavailable]", ' +
      'in the mission and in personalData, and this is the `unavailable` the API shows the mission with (GET /api/missions/:id).',
    example:
      'stored guest data fails its authentication check: it was altered, or moved to another mission or field where it is stored; `replay verify` finds where',
  })
  unavailable?: string;
}

export class SubjectAccessView {
  @ApiProperty({ example: 'guest:4711' })
  subjectId: string;

  @ApiProperty({ format: 'date-time', description: 'When this document was made.', example: '2026-05-01T12:00:00.000Z' })
  generatedAt: string;

  @ApiProperty({ description: 'Whether the subject was erased: its data key is gone, so its fields read "[erased]".', example: false })
  erased: boolean;

  @ApiProperty({ type: () => [SubjectMissionView], description: 'Every mission about the subject, oldest first.' })
  missions: SubjectMissionView[];
}
