import fc from 'fast-check';
import { GUEST_LANGUAGES, GuestLanguage } from '@app/mission';
import { detectLanguage, guestLanguage, LANGUAGE_LETTERS, LANGUAGE_WORDS, normalizeLanguage } from './language';

/** The heuristic as its comment states it, language by language: what detectLanguage must equal however it looks words up. */
function languageByWordCount(text: string): GuestLanguage {
  const words = text
    .toLowerCase()
    .split(/[^\p{L}-]+/u)
    .flatMap((word) => [word, ...(word.includes('-') ? word.split('-') : [])])
    .filter(Boolean);
  const score = (language: GuestLanguage) => words.filter((word) => LANGUAGE_WORDS[language].has(word) || LANGUAGE_LETTERS[language]?.test(word)).length;
  return GUEST_LANGUAGES.reduce<GuestLanguage>((best, language) => (score(language) > score(best) ? language : best), 'en');
}

describe('language detection', () => {
  it.each([
    ['Hallo, ich möchte bitte mein Zimmer später verlassen. Danke!', 'de'],
    ['Das Frühstück war nicht warm.', 'de'],
    ['Können wir die Buchung um einen Tag verlängern?', 'de'],
    ['Could we please check out a bit later? Thanks!', 'en'],
    ['The room next to ours is very loud at night.', 'en'],
    ['Bonjour, serait-il possible de quitter la chambre plus tard dimanche ? Merci beaucoup !', 'fr'],
    ['Le petit-déjeuner était froid et la salle de bain pas propre.', 'fr'],
    ["Buonasera, nella camera accanto c'è molto rumore e non riesco a dormire.", 'it'],
    ['Vorrei un check-out posticipato, grazie mille.', 'it'],
    ['Hola, ¿podrían preparar un desayuno sin gluten durante mi estancia? Muchas gracias.', 'es'],
    ['La habitación está muy sucia y faltan toallas.', 'es'],
    ['Goedemiddag, is er tijdens ons verblijf een parkeerplaats beschikbaar? Alvast bedankt.', 'nl'],
    ['Wij willen graag later uitchecken, kan dat?', 'nl'],
    ['', 'en'],
  ])('given "%s", when detected, then it is %s', (text, expected) => {
    expect(detectLanguage(text)).toBe(expected);
  });

  it("property: for any text of the languages' words, letters and other words, the language is the one with the most counted words, ties to English", () => {
    const vocabulary = [
      ...GUEST_LANGUAGES.flatMap((language) => [...LANGUAGE_WORDS[language]]),
      'hotel',
      'straße',
      'ça',
      'mañana',
      'bij',
      'x-ray',
      '-',
      'été-hiver',
    ];
    const word = fc.oneof(fc.constantFrom(...vocabulary), fc.string({ maxLength: 8 }));
    const separator = fc.constantFrom(' ', ', ', '. ', '-', '\n', '!? ', '');
    const text = fc.array(fc.tuple(word, separator), { maxLength: 40 }).map((parts) => parts.map(([w, s]) => w + s).join(''));
    fc.assert(
      fc.property(text, (sample) => {
        expect(detectLanguage(sample)).toBe(languageByWordCount(sample));
      }),
      { numRuns: 2_000 },
    );
  });

  it('given Odoo locales, when normalised, then they map to a guest language or null', () => {
    expect(normalizeLanguage('de_DE')).toBe('de');
    expect(normalizeLanguage('en-GB')).toBe('en');
    expect(normalizeLanguage('fr_FR')).toBe('fr');
    expect(normalizeLanguage('it_IT')).toBe('it');
    expect(normalizeLanguage('es_ES')).toBe('es');
    expect(normalizeLanguage('nl_BE')).toBe('nl');
    expect(normalizeLanguage('pt_PT')).toBeNull();
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
