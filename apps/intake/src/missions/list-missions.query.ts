import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { AGENT_ID_PATTERN } from '@app/agents';
import { IsIsoTime, MAX_PAGE_CURSOR_LENGTH, MISSION_STATUSES, MISSION_TYPES, MissionStatus, MissionType, PRIORITY_LEVELS, PriorityLevel } from '@app/mission';
import { PageSize } from '../http/page-size.decorator';

/** The characters and length of a page cursor (MAX_PAGE_CURSOR_LENGTH); decodeCursor checks the rest. */
const CURSOR_PATTERN = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_PAGE_CURSOR_LENGTH}}$`);

export class ListMissionsQuery {
  @ApiPropertyOptional({ enum: [...MISSION_STATUSES], enumName: 'MissionStatus', description: 'Only missions in this status.', example: 'queued' })
  @IsOptional()
  @IsIn(MISSION_STATUSES)
  status?: MissionStatus;

  @ApiPropertyOptional({ enum: [...MISSION_TYPES], enumName: 'MissionType', description: 'Only missions of this type.', example: 'maintenance' })
  @IsOptional()
  @IsIn(MISSION_TYPES)
  type?: MissionType;

  @ApiPropertyOptional({ enum: [...PRIORITY_LEVELS], enumName: 'PriorityLevel', description: 'Only missions of this priority level.', example: 'high' })
  @IsOptional()
  @IsIn(PRIORITY_LEVELS)
  priority?: PriorityLevel;

  /** The agent-id rule of `/api/agents/:id` (AGENT_ID_PATTERN): a malformed id is a 400 before anything is looked up. */
  @ApiPropertyOptional({
    pattern: AGENT_ID_PATTERN,
    description: 'Only missions this agent holds or held in an earlier attempt: 2 to 64 lowercase letters, digits or dashes; anything else is a 400.',
    example: 'agent-maintenance-1',
  })
  @IsOptional()
  @IsString()
  @Matches(new RegExp(AGENT_ID_PATTERN), { message: 'agentId must be an agent id: 2 to 64 lowercase letters, digits or dashes' })
  agentId?: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'Only missions whose title contains this text (case-insensitive).', example: 'minibar' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  title?: string;

  /** Created at or after (ISO time). */
  @ApiPropertyOptional({ format: 'date-time', description: 'Only missions created at or after this time (ISO 8601).', example: '2026-05-01T00:00:00Z' })
  @IsOptional()
  @IsIsoTime()
  createdFrom?: string;

  /** Created before (ISO time). */
  @ApiPropertyOptional({ format: 'date-time', description: 'Only missions created before this time (ISO 8601).', example: '2026-05-02T00:00:00Z' })
  @IsOptional()
  @IsIsoTime()
  createdTo?: string;

  /** Opaque; the `nextCursor` of the previous page. */
  @ApiPropertyOptional({
    pattern: CURSOR_PATTERN.source,
    description:
      'Opaque: the `nextCursor` of the previous page of this list, with the same filters (the page size may change). ' +
      'Anything else is a 400, a cursor of another list or of other filters too: start again without a cursor then.',
    example: 'AvX4BfegwSCkzwIAAAGWiy51wAGWobI8TX5fipsMHS4_Sls',
  })
  @IsOptional()
  @IsString()
  @Matches(CURSOR_PATTERN, { message: 'cursor is not a cursor this API issued: start again without a cursor' })
  cursor?: string;

  @PageSize()
  limit?: number;
}
