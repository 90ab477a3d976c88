import { KeptInPlainText } from '@app/mission';

export class CancelMissionBody {
  @KeptInPlainText({
    description:
      'Why; recorded in the MissionCancelled event, in plain, so it must not name the guest. One line of text (no control characters or bidi overrides), ' +
      'without an `@`. Defaults to "cancelled by request".',
    example: 'guest checked out',
  })
  reason?: string;
}
