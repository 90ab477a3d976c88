import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MISSION_TYPES, MissionType } from '@app/mission';

/** Which dead-lettered missions a bulk requeue takes; every given condition must hold. */
export class RequeueFilterBody {
  @IsOptional() @IsIn(MISSION_TYPES)
  type?: MissionType;

  /** Only missions dead-lettered before this time. */
  @IsOptional() @IsISO8601({ strict: true })
  deadLetteredBefore?: string;

  /** Only missions whose last error contains this text. */
  @IsOptional() @IsString() @MaxLength(200)
  errorContains?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit?: number;

  @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}
