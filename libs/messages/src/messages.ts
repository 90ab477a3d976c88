import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsDefined, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, Max, Min, MinLength, ValidateNested } from 'class-validator';
import { Mission, MISSION_STATUSES, MISSION_TYPES, MissionStatus, MissionType } from '@app/mission';

/**
 * A mission as carried in a message: the projected state at `version`. The fields a handler
 * decides on are validated; the rest is the state the event store wrote. The decorators in this
 * file declare the rules; `message-checks.ts` applies them in the stream handlers' pipe.
 */
export class MissionSnapshotDto implements Pick<Mission, 'id' | 'type' | 'status' | 'version' | 'attempts' | 'requiredSkills'> {
  @IsString()
  @MinLength(1)
  id: string;

  @IsIn(MISSION_TYPES)
  type: MissionType;

  @IsIn(MISSION_STATUSES)
  status: MissionStatus;

  @IsInt()
  @Min(1)
  version: number;

  @IsInt()
  @Min(0)
  attempts: number;

  @IsArray()
  @IsString({ each: true })
  requiredSkills: string[];

  @IsObject()
  payload: Record<string, unknown>;
}

export class MissionMessage {
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => MissionSnapshotDto)
  mission: Mission;
}

/** `queue.ready`: a nudge; `returned` counts missions whose lease ended (handed back or expired). */
export interface QueueReady {
  returned?: number;
}

export class VerdictCredit {
  @IsNumber({ allowNaN: false, allowInfinity: false })
  delta: number;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  score: number;

  @IsBoolean()
  passed: boolean;
}

/**
 * An attempt ended (failed, evaluated or cancelled): its agent slot is free again. Written with
 * the mission's event; the orchestrator releases the hold, once, and credits the verdict.
 */
export class AgentReleased {
  @IsString()
  @MinLength(1)
  agentId: string;

  @IsString()
  @MinLength(1)
  missionId: string;

  @IsInt()
  @Min(1)
  attempt: number;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => VerdictCredit)
  credit?: VerdictCredit;

  /** The service whose event ended the attempt. */
  @IsIn(['intake', 'executor', 'evaluator'])
  by: 'intake' | 'executor' | 'evaluator';
}
