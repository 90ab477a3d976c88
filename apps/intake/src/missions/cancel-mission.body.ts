import { IsOptional, IsString, MaxLength } from 'class-validator';

export class CancelMissionBody {
  @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}
