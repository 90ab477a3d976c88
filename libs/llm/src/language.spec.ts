import fc from 'fast-check';
import { GUEST_LANGUAGES, GuestLanguage } from '@app/mission';
import {
  detectLanguage,
  guestLanguage,
  LANGUAGE_LETTERS,
  LANGUAGE_WORDS,
  normalizeLanguage,
  OTHER_LATIN_LANGUAGES,
  otherLatinLanguage,
  unsupportedLanguage,
} from './language';

/** The heuristic as its comment states it, language by language: what detectLanguage must equal however it looks words up. */
function languageByWordCount(text: string): GuestLanguage {
  const words = text
    .normalize('NFC')
    .toLowerCase()
    .split(/[^\p{L}\p{M}-]+/u)
    .flatMap((word) => [word, ...(word.includes('-') ? word.split('-') : [])])
    .filter(Boolean);
  const score = (language: GuestLanguage) => words.filter((word) => LANGUAGE_WORDS[language].has(word) || LANGUAGE_LETTERS[language]?.test(word)).length;
  return GUEST_LANGUAGES.reduce<GuestLanguage>((best, language) => (score(language) > score(best) ? language : best), 'en');
}

/** A guest's words in each of GUEST_LANGUAGES, and the language each is in. */
const GUEST_SENTENCES: readonly (readonly [string, GuestLanguage])[] = [
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
];

describe('language detection', () => {
  it.each(GUEST_SENTENCES)('given "%s", when detected, then it is %s', (text, expected) => {
    expect(detectLanguage(text)).toBe(expected);
  });

  it.each([
    ['Très tard, désolé — séjour à l’hôtel', 'fr'],
    ['¿Podría dejar la habitación más tarde? Muchas gracias por todo, señora.', 'es'],
    ['Könnten wir bitte später auschecken? Vielen Dank', 'de'],
  ])('given "%s" in decomposed form (NFD), when detected, then it is %s, as in composed form', (text, expected) => {
    const decomposed = text.normalize('NFD');
    expect(decomposed).not.toBe(text);
    expect(detectLanguage(decomposed)).toBe(expected);
    expect(detectLanguage(text)).toBe(expected);
  });

  it.each([
    ['Chinese', '我们能晚一点退房吗？谢谢'],
    ['Japanese', 'チェックアウトを遅らせてもいいですか？よろしくお願いします'],
    ['Korean', '체크아웃을 늦게 할 수 있을까요? 감사합니다'],
    ['Arabic', 'هل يمكننا تسجيل المغادرة متأخرا؟ شكرا'],
    ['Hebrew', 'האם אפשר לעשות צ׳ק אאוט מאוחר? תודה'],
    ['Russian', 'Можно ли выехать из номера позже? Спасибо, Anna'],
    ['Thai', 'ขอเช็คเอาท์ช้าได้ไหมคะ ขอบคุณค่ะ'],
    ['Hindi', 'क्या हम देर से चेक आउट कर सकते हैं? धन्यवाद'],
  ])('given %s text, when detected, then it is none of the supported languages', (_language, text) => {
    expect(detectLanguage(text)).toBeNull();
  });

  it('given a Latin text with a few words in another script, when detected, then the Latin text decides', () => {
    expect(detectLanguage('Dear team, could we please check out later? Thanks, Иван')).toBe('en');
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

  describe('a guest whose language is none of the supported ones', () => {
    const turkish = { title: 'Geç çıkış', description: '', payload: { language: 'tr_TR', message: 'Merhaba, odadan daha geç çıkabilir miyiz? Teşekkürler.' } };
    const chinese = { title: 'Late checkout', description: 'Guest asks for a late checkout', payload: { language: 'zh_CN', message: '我们能晚一点退房吗？' } };
    const russian = { title: 'Late checkout', description: '', payload: { message: 'Можно ли выехать из номера позже? Спасибо' } };

    it.each([
      ['a stated Turkish locale', turkish, 'the locale "tr_TR"'],
      ['a stated Chinese locale', chinese, 'the locale "zh_CN"'],
      ['Cyrillic text and no locale', russian, 'text in Cyrillic script'],
      ['Han text and no locale', { ...chinese, payload: { message: chinese.payload.message } }, 'text in Chinese characters (Han)'],
    ])('given %s, when the language is derived, then it is named as unsupported and the reply falls back to English', (_case, input, named) => {
      expect(unsupportedLanguage(input)).toBe(named);
      expect(guestLanguage(input)).toBe('en');
    });

    it.each([
      ['a supported locale', { title: 'x', description: '', payload: { language: 'fr_FR', message: 'Можно ли выехать позже?' } }],
      ['Latin text and no locale', { title: 'Late checkout', description: '', payload: { message: 'Könnten wir später auschecken?' } }],
      ['a language field that is no locale', { title: 'Late checkout', description: '', payload: { language: 'German', message: 'Bitte später auschecken' } }],
    ])('given %s, when checked, then the language is not called unsupported', (_case, input) => {
      expect(unsupportedLanguage(input)).toBeNull();
    });

    it.each([
      ['Portuguese', 'Olá, não conseguimos dormir, o quarto ao lado tem muito barulho. Obrigado!'],
      ['Polish', 'Dzień dobry, czy możemy później opuścić pokój? Dziękuję bardzo.'],
      ['Czech', 'Dobrý den, mohli bychom prosím odjet později? Děkuji.'],
      ['Swedish', 'Hej, skulle vi kunna checka ut senare? Tack så mycket!'],
      ['Danish or Norwegian', 'Hej, jeg vil gerne tjekke ud senere. Tak og venlig hilsen.'],
      ['Turkish', 'Merhaba, odadan daha geç çıkabilir miyiz? Teşekkürler.'],
      ['Hungarian', 'Jó napot, szeretnénk később távozni a szobából. Köszönöm!'],
      ['Romanian', 'Bună ziua, am dori să plecăm mai târziu. Vă mulțumesc!'],
    ])('given a message in %s and no locale, when checked, then it is named as unsupported and the reply falls back to English', (language, message) => {
      const input = { title: 'Late checkout', description: '', payload: { message } };
      expect(unsupportedLanguage(input)).toBe(`text in ${language}`);
      expect(guestLanguage(input)).toBe('en');
    });

    it.each(GUEST_SENTENCES)('given "%s" (%s), when checked, then it is not read as another language', (message) => {
      expect(otherLatinLanguage(message)).toBeNull();
    });

    it.each([
      ['a name with letters of another language', 'Dear team, Mr Søren Ålund arrives late tonight; please keep his room.'],
      ['a place named in another language', 'We land from São Paulo at 23:00, could we check in then?'],
      ['one word of another language', 'Tak! The room was lovely.'],
    ])('given %s in a supported language, when checked, then it is not called unsupported', (_case, message) => {
      expect(unsupportedLanguage({ title: 'x', description: '', payload: { message } })).toBeNull();
    });

    it('given the word lists, then no word of another language is a word of a guest language', () => {
      const guestWords = new Set(GUEST_LANGUAGES.flatMap((language) => [...LANGUAGE_WORDS[language]]));
      const shared = OTHER_LATIN_LANGUAGES.flatMap(({ name, words }) => [...words].filter((word) => guestWords.has(word)).map((word) => `${name}: ${word}`));
      expect(shared).toEqual([]);
    });
  });
});
