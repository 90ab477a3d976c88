import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, Matches, ValidateNested } from 'class-validator';
import { CORRELATION_ID_PATTERN, CORRELATION_ID_RULE, IDEMPOTENCY_KEY_PATTERN, MISSION_ID_PATTERN, MissionCreateDto } from '@app/mission';

/**
 * `mission.submit` on the intake stream: how internal services create missions without HTTP.
 *   XADD <prefix>{m}:stream:intake * pattern mission.submit data '{"mission":{...},"idempotencyKey":"..."}'
 */
export class SubmitMissionCommand {
  /** Chosen by the sender so it knows the id before the intake has read the command. */
  @IsOptional()
  @Matches(new RegExp(MISSION_ID_PATTERN), { message: 'missionId must be a lowercase UUID' })
  missionId?: string;

  @IsOptional()
  @IsString()
  @Matches(IDEMPOTENCY_KEY_PATTERN, { message: 'idempotencyKey must be 1 to 200 visible ASCII characters' })
  idempotencyKey?: string;

  @IsOptional()
  @IsString()
  @Matches(CORRELATION_ID_PATTERN, { message: `correlationId must be ${CORRELATION_ID_RULE}` })
  correlationId?: string;

  @IsObject()
  @ValidateNested()
  @Type(() => MissionCreateDto)
  mission: MissionCreateDto;
}
