import { BadRequestException } from '@nestjs/common';
import { RequeueFilterBody } from '../dead-letters/requeue-filter.body';
import { CancelMissionBody } from '../missions/cancel-mission.body';
import { ApproveMissionBody } from '../reviews/approve-mission.body';
import { RejectMissionBody } from '../reviews/reject-mission.body';
import { CreateScheduleBody } from '../schedules/create-schedule.body';
import { CreateWebhookBody } from '../webhooks/webhook.bodies';
import { fieldErrors, RequestValidationPipe } from './request-validation.pipe';

const pipe = new RequestValidationPipe();

/** Each body with a valid minimum and the fields it may leave out. */
const BODIES = [
  { body: ApproveMissionBody, valid: {}, optional: ['note', 'output', 'attempt'] },
  { body: RejectMissionBody, valid: { feedback: 'Mention the parking fee.' }, optional: ['attempt'] },
  { body: CancelMissionBody, valid: {}, optional: ['reason'] },
  { body: RequeueFilterBody, valid: { all: true }, optional: ['type', 'deadLetteredBefore', 'errorContains', 'limit', 'reason', 'all'] },
  { body: CreateWebhookBody, valid: { url: 'https://erp.example.com/hooks', eventTypes: ['mission.finished'] }, optional: ['description'] },
  {
    body: CreateScheduleBody,
    valid: { cron: '0 7 * * *', timeZone: 'Europe/Berlin', template: { type: 'pricing', title: 'Rates', description: 'Daily rates', payload: {} } },
    optional: ['catchUpMs'],
  },
];

describe('optional body fields', () => {
  describe.each(BODIES)('$body.name', ({ body, valid, optional }) => {
    it('given the fields it needs, then it passes', async () => {
      await expect(pipe.transform(valid, { type: 'body', metatype: body })).resolves.toBeInstanceOf(body);
    });

    it.each(optional)('given %s sent as null, then it is a 400 naming it: null is no left-out field', async (field) => {
      const refused = await pipe.transform({ ...valid, [field]: null }, { type: 'body', metatype: body }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(BadRequestException);
      const details = ((refused as BadRequestException).getResponse() as { details: ReturnType<typeof fieldErrors> }).details;
      expect(details.map((detail) => detail.field)).toEqual([field]);
    });
  });
});
