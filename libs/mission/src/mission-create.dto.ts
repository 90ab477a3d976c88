import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { MISSION_TYPES, MissionType, PRIORITY_LEVELS, PriorityLevel } from './mission-type';
import { IsCleanText } from './clean-text.validator';
import { IsSafePayload } from './safe-payload.validator';

/** Enough for any ERP record; deeper or bigger payloads are almost always a mistake or an attack. */
export const PAYLOAD_LIMITS = { maxDepth: 8, maxKeys: 500 };

/** Where a mission came from in the ERP, e.g. {system: "odoo", model: "helpdesk.ticket", recordId: 4711}. */
export class MissionSourceDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  system: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  model: string;

  @IsInt()
  @Min(0)
  recordId: number;
}

export class MissionCreateDto {
  @IsIn(MISSION_TYPES)
  type: MissionType;

  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @IsCleanText({ requireVisible: true })
  title: string;

  @IsString()
  @MaxLength(10_000)
  @IsCleanText({ requireVisible: false })
  description: string;

  @IsIn(PRIORITY_LEVELS)
  priority: PriorityLevel;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Matches(/^[a-z][a-z0-9_]{0,63}$/, { each: true, message: 'each skill must be snake_case (a-z, 0-9, _), at most 64 characters' })
  requiredSkills?: string[];

  @IsObject()
  @IsSafePayload(PAYLOAD_LIMITS)
  payload: Record<string, unknown>;

  @IsOptional()
  @IsISO8601({ strict: true })
  deadline?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => MissionSourceDto)
  source?: MissionSourceDto;
}
