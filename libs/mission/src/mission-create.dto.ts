import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { IsCleanText, MULTI_LINE, SINGLE_LINE } from './clean-text.validator';
import { MAX_SUBJECTS, SUBJECT_ID_PATTERN, SUBJECT_MESSAGE } from './data-subject';
import { IsIsoInstant, IsNotBeforeStart } from './iso-time.validator';
import { MISSION_TYPES, MissionType, PRIORITY_LEVELS, PriorityLevel } from './mission-type';
import { knownPayloadKeysText } from './payload-keys';
import { IsSafePayload } from './safe-payload.validator';

/** Enough for any ERP record; deeper or bigger payloads are almost always a mistake or an attack. */
export const PAYLOAD_LIMITS = { maxDepth: 8, maxKeys: 500 };
/**
 * The most characters a title and a description may have (as class-validator's MaxLength counts
 * them). Named, so a sender that must not send what the intake refuses (the Odoo connector) reads
 * the same bounds.
 */
export const MAX_TITLE_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 10_000;
export const SKILL_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const SKILL_MESSAGE = 'each skill must be snake_case (a-z, 0-9, _), at most 64 characters';
export const MAX_SKILLS = 20;
/** ValidateNested's own complaint, "nested property source must be either object or array", names neither what to send nor its fields. */
export const SOURCE_MESSAGE = 'source must be an object (system, model, recordId)';

/** Where a mission came from in the ERP, e.g. {system: "odoo", model: "helpdesk.ticket", recordId: 4711}. */
export class MissionSourceDto {
  @ApiProperty({ description: 'The ERP system; one line of text (see title).', minLength: 1, maxLength: 64, example: 'odoo' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  @IsCleanText(SINGLE_LINE)
  system: string;

  @ApiProperty({ description: 'The ERP model (record type); one line of text (see title).', minLength: 1, maxLength: 128, example: 'helpdesk.ticket' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  @IsCleanText(SINGLE_LINE)
  model: string;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'The record id in that model; at most 2^53 - 1, as a JSON number above that is not exact and would name another record.',
    example: 4711,
  })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  recordId: number;
}

/** The body of POST /api/missions (and of the internal submission stream). */
export class MissionCreateDto {
  @ApiProperty({
    enum: [...MISSION_TYPES],
    enumName: 'MissionType',
    description: 'What kind of work; decides the agent skills and the rubric.',
    example: 'maintenance',
  })
  @IsIn(MISSION_TYPES)
  type: MissionType;

  @ApiProperty({
    description:
      'Short summary, one line: well-formed Unicode, no control characters (no tab or line break either), no bidirectional ' +
      'override or isolate characters (U+202A–U+202E, U+2066–U+2069), at least one visible character.',
    minLength: 1,
    maxLength: MAX_TITLE_LENGTH,
    example: 'AC broken in room 204',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_TITLE_LENGTH)
  @IsCleanText(SINGLE_LINE)
  title: string;

  @ApiProperty({
    description:
      'What is to be done, for the agent; may be empty. Well-formed Unicode, no control characters other than tab and line feed ' +
      '(\\n; no carriage return), no bidirectional override or isolate characters.',
    maxLength: MAX_DESCRIPTION_LENGTH,
    example: 'The AC blows warm air; guest is uncomfortable.',
  })
  @IsString()
  @MaxLength(MAX_DESCRIPTION_LENGTH)
  @IsCleanText(MULTI_LINE)
  description: string;

  @ApiProperty({
    enum: [...PRIORITY_LEVELS],
    enumName: 'PriorityLevel',
    description: 'Urgency as the submitter sees it; the base of the computed priorityScore.',
    example: 'high',
  })
  @IsIn(PRIORITY_LEVELS)
  priority: PriorityLevel;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' },
    maxItems: MAX_SKILLS,
    description:
      'Skills the agent needs, snake_case (a-z, 0-9, _; at most 64 characters each); duplicates are dropped. Absent or empty: the default skills of the type.',
    example: ['facility_maintenance'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_SKILLS)
  @IsString({ each: true })
  @Matches(SKILL_PATTERN, { each: true, message: SKILL_MESSAGE })
  requiredSkills?: string[];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      `Free-form input for the agent: a JSON object, at most ${PAYLOAD_LIMITS.maxDepth} levels deep and ${PAYLOAD_LIMITS.maxKeys} keys in all, ` +
      'no __proto__/constructor/prototype keys. Its strings follow the rule of description (tab and line feed allowed), its keys that of title ' +
      '(one line, may be empty). guest, when given, is an object (name, email, phone, id). Scoring reads vip (or guest.vip) and safetyIssue, booleans, and revenueAtStake (EUR), a number. ' +
      'The keys the system reads must hold the kind it reads them as, for the mission types that read them (null counts as left out; any other key is free), ' +
      'else 400 naming the key (payload.safetyIssue must be a boolean (true or false), not the string "true": …): ' +
      `${knownPayloadKeysText()}.`,
    example: { room: '204', guest: { vip: true } },
  })
  @IsObject()
  @IsSafePayload(PAYLOAD_LIMITS)
  payload: Record<string, unknown>;

  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'When it must be done (ISO 8601 date-time with its UTC offset: Z or ±hh:mm). The queue serves it earlier as the deadline comes nearer (README, Priority); passing it unfinished records MissionOverdue.',
    example: '2026-05-01T18:00:00Z',
  })
  @IsOptional()
  @IsIsoInstant()
  @IsNotBeforeStart()
  deadline?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'Not before this time (ISO 8601 date-time with its UTC offset: Z or ±hh:mm): until then the mission is `scheduled` (event MissionScheduled) and out of the ready queue; then it is queued (MissionQueued, reason due). A time already past queues it at once.',
    example: '2026-05-01T07:00:00Z',
  })
  @IsOptional()
  @IsIsoInstant()
  notBefore?: string;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', pattern: SUBJECT_ID_PATTERN.source },
    maxItems: MAX_SUBJECTS,
    description:
      'Whom the personal fields are about (README, Guest data): opaque ids such as guest:4711, never an e-mail address or a name. ' +
      'guest:<payload.guest.id> is added when the payload names a guest id; with neither, the mission itself when a personal field holds anything or the type has personal output. ' +
      "The personal fields are stored encrypted under these subjects' keys; DELETE /api/subjects/{subjectId} erases them.",
    example: ['guest:4711'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_SUBJECTS)
  @IsString({ each: true })
  @Matches(SUBJECT_ID_PATTERN, { each: true, message: SUBJECT_MESSAGE })
  subjects?: string[];

  @ApiPropertyOptional({
    type: () => MissionSourceDto,
    description: 'The ERP record the mission comes from. Without an Idempotency-Key, a second create for the same record returns the first mission.',
  })
  @IsOptional()
  @ValidateNested({ message: SOURCE_MESSAGE })
  @Type(() => MissionSourceDto)
  source?: MissionSourceDto;
}
