import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject } from 'class-validator';
import { IsSafePayload, Omittable, PAYLOAD_LIMITS, KeptInPlainText } from '@app/mission';
import { ReviewedAttempt } from './reviewed-attempt.decorator';

export class ApproveMissionBody {
  @KeptInPlainText({
    description:
      "The reviewer's note, recorded in the MissionApproved event, in plain, so it must not name the guest. One line of text (no control characters or bidi overrides), without an `@`.",
    example: 'Offered 13:00 instead of 14:00: the room is booked from 15:00.',
  })
  note?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      "The reviewer's edit of the result: the agent's output with the same fields, each of the same kind (text, number, list of texts; " +
      'guest_support: language, reply, actions; pricing: recommendedRate, currency, changePercent, reason; maintenance: urgency, steps, ' +
      'safetyNotes, parts), its text without control characters but tab and line feed. The fields that are not personal (all of pricing and ' +
      'maintenance, language) are recorded in plain, so, as in note, a text there (or in a list there) with an `@` in any form is a 400 naming it ' +
      "(output.steps[0]). It replaces the agent's output; the original stays " +
      'in the review and in MissionCompleted.',
    example: { language: 'en', reply: 'Dear Mr Miller, a late checkout until 13:00 is confirmed.', actions: ['set checkout 13:00 in PMS'] },
  })
  @Omittable()
  @IsObject()
  @IsSafePayload(PAYLOAD_LIMITS)
  output?: Record<string, unknown>;

  @ReviewedAttempt()
  attempt?: number;
}
