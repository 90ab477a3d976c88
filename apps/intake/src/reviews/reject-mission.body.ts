import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { IsCleanText, IsKeptInPlain, KEPT_IN_PLAIN_PATTERN, MULTI_LINE } from '@app/mission';
import { ReviewedAttempt } from './reviewed-attempt.decorator';

export class RejectMissionBody {
  @ApiProperty({
    maxLength: 2000,
    pattern: KEPT_IN_PLAIN_PATTERN,
    description:
      "What the next attempt must change; recorded in MissionRejected, in plain, so it must not name the guest, and given to the next attempt's prompt as data. " +
      'Text with a visible character, without an `@`; tab and line feed allowed, no other control characters or bidi overrides.',
    example: 'Mention that the parking garage charges EUR 15 per night.',
  })
  @IsString()
  @MaxLength(2000)
  @IsCleanText({ ...MULTI_LINE, requireVisible: true })
  @IsKeptInPlain()
  feedback: string;

  @ReviewedAttempt()
  attempt?: number;
}
