import { detectLanguage, guestLanguage, normalizeLanguage } from './language';

describe('language detection', () => {
  it.each([
    ['Hallo, ich möchte bitte mein Zimmer später verlassen. Danke!', 'de'],
    ['Das Frühstück war nicht warm.', 'de'],
    ['Können wir die Buchung um einen Tag verlängern?', 'de'],
    ['Could we please check out a bit later? Thanks!', 'en'],
    ['The room next to ours is very loud at night.', 'en'],
    ['', 'en'],
  ])('given "%s", when detected, then it is %s', (text, expected) => {
    expect(detectLanguage(text)).toBe(expected);
  });

  it('given Odoo locales, when normalised, then they map to de/en or null', () => {
    expect(normalizeLanguage('de_DE')).toBe('de');
    expect(normalizeLanguage('en-GB')).toBe('en');
    expect(normalizeLanguage('fr_FR')).toBeNull();
    expect(normalizeLanguage(42)).toBeNull();
  });

  it('given an English staff title and a German guest message, when the guest language is derived, then the message decides', () => {
    const input = {
      title: 'Late checkout request',
      description: 'Guest asks for late checkout',
      payload: { message: 'Ich würde gerne später auschecken, bitte.' },
    };
    expect(guestLanguage(input)).toBe('de');
  });

  it('given payload.language, when the text says otherwise, then payload.language wins', () => {
    expect(guestLanguage({ title: 'Hello', description: 'Thanks a lot', payload: { language: 'de' } })).toBe('de');
  });
});
