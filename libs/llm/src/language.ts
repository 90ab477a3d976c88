import { GUEST_LANGUAGES, GuestLanguage } from '@app/mission';
export const LANGUAGE_NAMES: Readonly<Record<GuestLanguage, string>> = {
  de: 'German',
  en: 'English',
  fr: 'French',
  it: 'Italian',
  es: 'Spanish',
  nl: 'Dutch',
};

const words = (list: string) => new Set(list.split(' '));

/**
 * Words frequent in one language and rare in the others: function words and the hotel's
 * vocabulary. Words two languages share (in, was, so, an, will, de, la, a, per, met) are left out.
 */
export const LANGUAGE_WORDS: Readonly<Record<GuestLanguage, ReadonlySet<string>>> = {
  de: words(
    'ich du sie wir ihr ihre ihren ihnen uns mein meine meinen nicht bitte danke dank vielen zimmer frühstück und oder ' +
      'der die das den dem des ein eine einen einem ist sind war wäre haben hatte habe hat mit für auf aus bei von zu zur ' +
      'zum noch auch aber dass wenn kann können könnten möchte möchten würde würden sehr gerne gern guten tag hallo liebe ' +
      'lieber grüße grüßen gruß leider heute morgen abend nacht wie wo wann warum schon mehr kein keine unser unsere ' +
      'buchung reservierung anreise abreise später früher laut lärm klimaanlage heizung wasser dusche gast gäste ' +
      'herzlich freundlichen uhr zimmernummer sich um nach über durch',
  ),
  en: words(
    'i you we they he she it my your our their me us not please thank thanks room breakfast and or the a of to is are ' +
      'was were be been have has had with for at from by on this that these those would could should can do does did ' +
      'very dear hello hi regards best sorry today tomorrow evening night how where when why already more no any ' +
      'booking reservation arrival departure later earlier loud noise air conditioning heating water shower bathroom ' +
      'guest guests sincerely number just about after through there here what which',
  ),
  fr: words(
    'je vous nous ils elle mon mes votre vos notre nos le les une et ou est sont était avec pour sur dans ' +
      'pas merci bonjour bonsoir madame monsieur cher chère chambre petit-déjeuner déjeuner réservation séjour arrivée départ ' +
      'plus tard tôt bruit bruyant voisins serviettes ménage salle bain eau possible pourriez pouvez pourrais voudrais ' +
      'aimerais serait très bien cordialement salutations désolé désolés excuses nuit soir demain aujourd hui quitter ' +
      'tardif stationnement équipe nous vous prions agréer',
  ),
  it: words(
    'io lei noi voi loro mio mia miei nostro nostra gli della dello delle degli nel nella sono per non ' +
      'grazie buongiorno buonasera gentile gentili caro cara camera colazione prenotazione soggiorno arrivo partenza più ' +
      'tardi presto rumore rumoroso vicini asciugamani pulizia bagno acqua possibile potrei potreste vorrei sarebbe molto ' +
      'cordiali saluti distinti scusa scusi dispiace notte sera domani oggi lasciare posticipato parcheggio squadra ' +
      'che anche questo questa siamo abbiamo ho è',
  ),
  es: words(
    'yo usted nosotros ellos mis sus nuestro nuestra el los las del una y es estaba para por ' +
      'gracias hola buenos buenas días tardes noches estimado estimada habitación desayuno reserva estancia llegada ' +
      'salida más tarde temprano ruido ruidoso vecinos toallas limpieza baño agua posible podría podrían quisiera sería ' +
      'muy atentamente saludos cordiales sentimos disculpe disculpas noche mañana hoy dejar tardía aparcamiento equipo ' +
      'también pero este esta estamos hemos está',
  ),
  nl: words(
    'ik jij u wij jullie zij mijn uw onze ons het een en zijn waren voor op uit bij van naar niet graag ' +
      'bedankt dank alvast goedemorgen goedemiddag goedenavond beste geachte kamer ontbijt boeking reservering verblijf ' +
      'aankomst vertrek eerder lawaai luid geluid buren handdoeken schoonmaak badkamer mogelijk kunnen kunt ' +
      'zou zouden wil willen heel erg vriendelijke groet groeten excuses spijt nacht avond vandaag uitchecken ' +
      'inchecken parkeren parkeerplaats team dat ook maar deze dit hebben heb hoe wanneer waarom',
  ),
};

/** Letters one language has and the others do not. */
export const LANGUAGE_LETTERS: Readonly<Partial<Record<GuestLanguage, RegExp>>> = {
  de: /[äöüß]/,
  fr: /[çœâêîôûëï]/,
  es: /[ñ¿¡]/,
  nl: /ij/,
};

/** Each word of LANGUAGE_WORDS with the languages it scores for, one bit per language in GUEST_LANGUAGES order. */
const WORD_LANGUAGES: ReadonlyMap<string, number> = (() => {
  const bits = new Map<string, number>();
  GUEST_LANGUAGES.forEach((language, index) => {
    for (const word of LANGUAGE_WORDS[language]) bits.set(word, (bits.get(word) ?? 0) | (1 << index));
  });
  return bits;
})();

/** The letter tests with their language's bit; and one test that a word has any of those letters, so most words need none. */
const LETTER_BITS: readonly (readonly [RegExp, number])[] = GUEST_LANGUAGES.flatMap((language, index) => {
  const letters = LANGUAGE_LETTERS[language];
  return letters ? [[letters, 1 << index] as const] : [];
});
const ANY_LANGUAGE_LETTER = new RegExp(LETTER_BITS.map(([letters]) => letters.source).join('|'));

/** The languages `word` scores for, as bits (see WORD_LANGUAGES). */
function languageBits(word: string): number {
  let bits = WORD_LANGUAGES.get(word) ?? 0;
  if (ANY_LANGUAGE_LETTER.test(word)) for (const [letters, bit] of LETTER_BITS) if (letters.test(word)) bits |= bit;
  return bits;
}

/**
 * The form guest text is compared in: NFC, so a letter sent as base letter and combining mark
 * (`e` + U+0301, as some phones and mail clients send it) is the precomposed letter the word
 * lists, letter tests and topic patterns hold; and lower case.
 */
export function comparableText(text: string): string {
  return text.normalize('NFC').toLowerCase();
}

/** Scripts guests write in that none of GUEST_LANGUAGES is written in (they all are Latin), named for a person to read. */
const OTHER_SCRIPTS: ReadonlyArray<readonly [string, RegExp]> = [
  ['Chinese characters (Han)', /\p{Script=Han}/u],
  ['Japanese kana', /[\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['Korean (Hangul)', /\p{Script=Hangul}/u],
  ['Arabic script', /\p{Script=Arabic}/u],
  ['Hebrew script', /\p{Script=Hebrew}/u],
  ['Cyrillic script', /\p{Script=Cyrillic}/u],
  ['Greek script', /\p{Script=Greek}/u],
  ['Thai script', /\p{Script=Thai}/u],
  ['Devanagari script', /\p{Script=Devanagari}/u],
];
const LATIN_LETTER = /\p{Script=Latin}/gu;
const OTHER_LETTER = /(?!\p{Script=Latin})\p{L}/gu;

/**
 * The script most of the text's letters are in when it is not Latin, so the text is in none of
 * GUEST_LANGUAGES whatever its words; null when most letters are Latin, or there are none.
 */
export function foreignScript(text: string): string | null {
  const others = text.match(OTHER_LETTER) ?? [];
  if (others.length === 0 || others.length <= (text.match(LATIN_LETTER)?.length ?? 0)) return null;
  const counts = new Map<string, number>();
  for (const letter of others) {
    const name = OTHER_SCRIPTS.find(([, letters]) => letters.test(letter))?.[0] ?? 'a script other than Latin';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].reduce((most, entry) => (entry[1] > most[1] ? entry : most))[0];
}

/**
 * Word-count heuristic; good enough for short guest messages: each language scores a point for
 * each of its words and for each word with a letter only it has. The highest score wins; ties
 * (and Latin text in none of them) go to English. A hyphenated word counts whole and as its parts.
 * Null for text mostly in another script (foreignScript): it is none of the languages.
 * One map look-up per word, not one per language: the evaluator runs it on every reply.
 */
export function detectLanguage(text: string): GuestLanguage | null {
  const comparable = comparableText(text);
  if (foreignScript(comparable) !== null) return null;
  const scores = new Array<number>(GUEST_LANGUAGES.length).fill(0);
  const score = (word: string) => {
    if (!word) return;
    const bits = languageBits(word);
    if (bits === 0) return;
    for (let index = 0; index < scores.length; index++) if (bits & (1 << index)) scores[index]++;
  };
  // Marks stay in the word: a letter and mark with no precomposed form must not split it.
  for (const word of comparable.split(/[^\p{L}\p{M}-]+/u)) {
    score(word);
    if (word.includes('-')) for (const part of word.split('-')) score(part);
  }
  let best = GUEST_LANGUAGES.indexOf('en');
  for (let index = 0; index < scores.length; index++) if (scores[index] > scores[best]) best = index;
  return GUEST_LANGUAGES[best];
}

/** Accepts "de", "FR", "de_DE", "en-GB", "nl_BE" (Odoo stores partner languages as locales). */
export function normalizeLanguage(value: unknown): GuestLanguage | null {
  if (typeof value !== 'string') return null;
  const code = value.trim().toLowerCase().slice(0, 2);
  return (GUEST_LANGUAGES as readonly string[]).includes(code) ? (code as GuestLanguage) : null;
}

export interface GuestRequestText {
  title: string;
  description: string;
  payload: Record<string, unknown>;
}

/** The guest's own words when the ERP has them; titles are often written by staff in English. */
export function guestText(input: GuestRequestText): string {
  const message = input.payload.message;
  return typeof message === 'string' && message.trim() ? message : `${input.title} ${input.description}`;
}

/** A stated locale: a two-letter language code with its region, script or variant, as Odoo stores them ("tr_TR", "zh-Hans-CN", "sr@latin"). */
const LOCALE = /^[a-z]{2}(?:[_@-][a-z0-9]+)*$/i;

/**
 * How the guest's language is known to be none of GUEST_LANGUAGES, for a person to read: the
 * locale stated in payload.language, or the script the guest writes in; null when it is one of
 * them or not known to be another (Latin text in another language reads as the nearest of them).
 */
export function unsupportedLanguage(input: GuestRequestText): string | null {
  const stated = input.payload.language;
  if (typeof stated === 'string' && LOCALE.test(stated.trim())) return normalizeLanguage(stated) ? null : `the locale "${stated.trim()}"`;
  const script = foreignScript(guestText(input));
  return script === null ? null : `text in ${script}`;
}

/**
 * The language to reply in: payload.language, else the one the guest writes in. English, the
 * language most staff and guests share, when the guest's is none of GUEST_LANGUAGES
 * (unsupportedLanguage): such a draft is for a person to start from, never to send as it is.
 */
export function guestLanguage(input: GuestRequestText): GuestLanguage {
  const stated = normalizeLanguage(input.payload.language);
  if (stated) return stated;
  if (unsupportedLanguage(input) !== null) return 'en';
  return detectLanguage(guestText(input)) ?? 'en';
}
