import { UnprocessableEntityException } from '@nestjs/common';
import { RejectionCode } from '@app/messages';

/**
 * A well-formed create the intake will not carry out: its idempotency key names a mission created
 * from another body, or a key whose record has expired, or its text is too big for a prompt, or no
 * agent has the skills it needs (and so is a schedule whose template needs them). The REST API
 * answers 422 (the error filter keeps an HttpException's status); the submission stream moves the
 * command to the rejected stream with this message and `code`.
 */
export class MissionCreateRefusedError extends UnprocessableEntityException {
  constructor(
    message: string,
    readonly code: RejectionCode.NoAgentHasSkills | RejectionCode.Refused = RejectionCode.Refused,
  ) {
    super(message);
    this.name = 'MissionCreateRefusedError';
  }
}
