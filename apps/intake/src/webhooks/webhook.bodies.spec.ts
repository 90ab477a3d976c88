import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CreateWebhookBody } from './webhook.bodies';

/** The problems class-validator finds in a subscription's eventTypes, as the 400 lists them. */
function eventTypeProblems(eventTypes: unknown): string[] {
  const errors = validateSync(plainToInstance(CreateWebhookBody, { url: 'https://erp.example.com/hooks', eventTypes }));
  return errors.filter((error) => error.property === 'eventTypes').flatMap((error) => Object.values(error.constraints ?? {}));
}

describe('CreateWebhookBody eventTypes', () => {
  it('given none, then it asks for at least one event type, in a sentence', () => {
    expect(eventTypeProblems([])).toEqual(['eventTypes must name at least one event type']);
  });

  it('given one type twice, then it says so, in a sentence', () => {
    expect(eventTypeProblems(['mission.finished', 'mission.finished'])).toEqual(['eventTypes must not name an event type twice']);
  });

  it('given known types once each, then nothing to say', () => {
    expect(eventTypeProblems(['mission.finished', 'MissionDeadLettered'])).toEqual([]);
  });
});
