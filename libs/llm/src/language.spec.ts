import { detectLanguage, guestLanguage, normalizeLanguage } from './language';

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
