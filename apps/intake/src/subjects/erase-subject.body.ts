import { KeptInPlainText } from '@app/mission';

export class EraseSubjectBody {
  // Kept in plain for good: the guest's address there would be the one thing their erasure leaves behind.
  @KeptInPlainText({
    required: true,
    notEmpty: true,
    description:
      'Why the subject is erased (e.g. "erasure request 2026-117, Art. 17 GDPR"); recorded in each SubjectErased event, in plain, so it must not name the guest. ' +
      'One line of text (no control characters or bidi overrides), without an `@`: an e-mail address there would outlive the erasure in the log.',
    example: 'erasure request 2026-117 (Art. 17 GDPR)',
  })
  reason: string;
}
