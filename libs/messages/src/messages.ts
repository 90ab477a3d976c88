import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsDefined, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, Max, Min, MinLength, ValidateNested } from 'class-validator';
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

/** An agent with room: the lease takes only missions whose skills one of these has. */
export class FreeAgentDto {
  @IsInt() @Min(1) @Max(10_000)
  free: number;

  @IsArray() @ArrayMaxSize(100) @IsString({ each: true })
  skills: string[];
}

export class LeaseRequest {
  @IsString() @MinLength(1)
  requestId: string;

  @IsOptional() @IsArray() @ArrayMaxSize(10_000) @ValidateNested({ each: true }) @Type(() => FreeAgentDto)
  agents?: FreeAgentDto[];

  /** The log partition whose ready queue is asked; it routes the request to that partition's stream. */
  @IsInt() @Min(0)
  partition: number;

  @IsInt() @Min(1) @Max(10_000)
  max: number;
}

export class LeaseReturn {
  @IsArray() @ArrayMaxSize(10_000) @IsString({ each: true })
  missionIds: string[];

  /** The lease request the missions were leased to: only missions still leased to it go back. */
  @IsOptional() @IsString() @MinLength(1)
  leaseId?: string;
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

export class VerdictCredit {
  @IsNumber({ allowNaN: false, allowInfinity: false })
  delta: number;

  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(1)
  score: number;

  @IsBoolean()
  passed: boolean;
}

/**
 * An attempt ended (failed, evaluated or cancelled): its agent slot is free again. Written with
 * the mission's event; the orchestrator releases the hold, once, and credits the verdict.
 */
export class AgentReleased {
  @IsString() @MinLength(1)
  agentId: string;

  @IsString() @MinLength(1)
  missionId: string;

  @IsInt() @Min(1)
  attempt: number;

  @IsOptional() @IsObject() @ValidateNested() @Type(() => VerdictCredit)
  credit?: VerdictCredit;

  /** The service whose event ended the attempt. */
  @IsIn(['intake', 'executor', 'evaluator'])
  by: 'intake' | 'executor' | 'evaluator';
}
