import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { MISSION_STATUSES, MISSION_TYPES, MissionStatus, MissionType, PRIORITY_LEVELS, PriorityLevel } from '@app/mission';

export class ListMissionsQuery {
  @IsOptional() @IsIn(MISSION_STATUSES)
  status?: MissionStatus;

  @IsOptional() @IsIn(MISSION_TYPES)
  type?: MissionType;

  @IsOptional() @IsIn(PRIORITY_LEVELS)
  priority?: PriorityLevel;

  @IsOptional() @IsString() @MaxLength(128)
  agentId?: string;

  /** Created at or after (ISO time). */
  @IsOptional() @IsISO8601({ strict: true })
  createdFrom?: string;

  /** Created before (ISO time). */
  @IsOptional() @IsISO8601({ strict: true })
  createdTo?: string;

  /** Opaque; the `nextCursor` of the previous page. */
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor is not a cursor this API issued' })
  cursor?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;
}

export interface MissionPage<T> {
  items: T[];
  /** Absent on the last page. */
  nextCursor?: string;
}
