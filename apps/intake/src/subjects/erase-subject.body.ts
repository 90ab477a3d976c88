import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { IsCleanText, IsKeptInPlain, KEPT_IN_PLAIN_PATTERN, SINGLE_LINE } from '@app/mission';

export class EraseSubjectBody {
  @ApiProperty({
    minLength: 1,
    maxLength: 500,
    pattern: KEPT_IN_PLAIN_PATTERN,
    description:
      'Why the subject is erased (e.g. "erasure request 2026-117, Art. 17 GDPR"); recorded in each SubjectErased event, in plain, so it must not name the guest. ' +
      'One line of text (no control characters or bidi overrides), without an `@`: an e-mail address there would outlive the erasure in the log.',
    example: 'erasure request 2026-117 (Art. 17 GDPR)',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  @IsCleanText(SINGLE_LINE)
  // Kept in plain for good: the guest's address there would be the one thing their erasure leaves behind.
  @IsKeptInPlain()
  reason: string;
}
