import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CreateWebhookBody, WEBHOOK_URL_MAX_LENGTH } from './webhook.bodies';

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

describe('CreateWebhookBody url', () => {
  const urlProblems = (url: string): string[] =>
    validateSync(plainToInstance(CreateWebhookBody, { url, eventTypes: ['mission.finished'] }))
      .filter((error) => error.property === 'url')
      .flatMap((error) => Object.values(error.constraints ?? {}));

  it('given a URL that fits as sent but not as URL parsing writes it (percent-encoded), then it is refused with both lengths named', () => {
    const url = `https://erp.example.com/${'\u{1F600}'.repeat(1010)}`;
    expect(url.length).toBeLessThanOrEqual(WEBHOOK_URL_MAX_LENGTH);
    // It used to pass and be stored 12,143 characters long.
    expect(urlProblems(url)).toEqual([
      `url must be at most 2048 characters as URL parsing writes it (percent-encoded), as it is stored and called; this one is ${new URL(url).href.length}`,
    ]);
  });

  it('given port 0, then it is refused: it was stored so and called on port 80', () => {
    expect(urlProblems('http://127.0.0.1:0/x')).toEqual(['url must not name port 0']);
  });

  it('given blanks around or inside the URL, then nothing to say', () => {
    // The services' URL variables refuse them, being used as written; a subscription is stored as URL parsing writes it, so it keeps taking them.
    expect(urlProblems(' https://erp.example.com/brain hooks\n')).toEqual([]);
  });

  it('given a URL at the limit as written, then nothing to say', () => {
    const base = 'https://erp.example.com/';
    expect(urlProblems(base + 'a'.repeat(WEBHOOK_URL_MAX_LENGTH - base.length))).toEqual([]);
  });
});
