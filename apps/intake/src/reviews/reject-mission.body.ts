import { KeptInPlainText } from '@app/mission';
import { ReviewedAttempt } from './reviewed-attempt.decorator';

export class RejectMissionBody {
  @KeptInPlainText({
    required: true,
    maxLength: 2000,
    multiLine: true,
    description:
      "What the next attempt must change; recorded in MissionRejected, in plain, so it must not name the guest, and given to the next attempt's prompt as data. " +
      'Text with a visible character, without an `@`; tab and line feed allowed, no other control characters or bidi overrides.',
    example: 'Mention that the parking garage charges EUR 15 per night.',
  })
  feedback: string;

  @ReviewedAttempt()
  attempt?: number;
}
