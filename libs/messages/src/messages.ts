import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDefined, IsIn, IsInt, IsObject, IsOptional, IsString, Max, Min, MinLength, ValidateNested } from 'class-validator';
import { Mission, MISSION_STATUSES, MISSION_TYPES, MissionStatus, MissionType } from '@app/mission';

/**
 * A mission as carried in a message: the projected state at `version`. The fields a handler
 * decides on are validated; the rest is the state the event store wrote. The decorators in this
 * file declare the rules; `message-checks.ts` applies them in the stream handlers' pipe.
 */
export class MissionSnapshotDto implements Pick<Mission, 'id' | 'type' | 'status' | 'version' | 'attempts' | 'requiredSkills'> {
  @IsString() @MinLength(1)
  id: string;

  @IsIn(MISSION_TYPES)
  type: MissionType;

  @IsIn(MISSION_STATUSES)
  status: MissionStatus;

  @IsInt() @Min(1)
  version: number;

  @IsInt() @Min(0)
  attempts: number;

  @IsArray() @IsString({ each: true })
  requiredSkills: string[];

  @IsObject()
  payload: Record<string, unknown>;
}

export class MissionMessage {
  @IsDefined() @IsObject() @ValidateNested() @Type(() => MissionSnapshotDto)
  mission: Mission;
}

export class LeaseRequest {
  @IsString() @MinLength(1)
  requestId: string;

  @IsInt() @Min(1) @Max(10_000)
  max: number;
}

export class LeaseReturn {
  @IsArray() @ArrayMaxSize(10_000) @IsString({ each: true })
  missionIds: string[];
}

export class AttemptFailed {
  @IsString() @MinLength(1)
  missionId: string;

  @IsInt() @Min(1)
  attempt: number;
}

export class MissionsLeased {
  @IsString()
  requestId: string;

  @IsInt()
  leaseUntil: number;

  @IsArray() @ValidateNested({ each: true }) @Type(() => MissionSnapshotDto)
  missions: Mission[];
}

export class AgentReleased {
  @IsOptional() @IsString()
  agentId?: string;
}
