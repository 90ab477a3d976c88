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
 * Latin-script languages guests write in that are none of GUEST_LANGUAGES, named for a person to
 * read: words frequent in each and in no list of LANGUAGE_WORDS (short words several languages
 * share are left out), and letters none of GUEST_LANGUAGES writes. Without them a Polish or
 * Portuguese message read as the nearest guest language, and the reply was judged by it.
 */
export const OTHER_LATIN_LANGUAGES: ReadonlyArray<{ readonly name: string; readonly words: ReadonlySet<string>; readonly letters?: RegExp }> = [
  {
    name: 'Portuguese',
    words: words(
      'não obrigado obrigada quarto você vocês nós eu meu minha estou muito bom boa noite toalhas limpeza banheiro ' +
        'água poderia gostaria seria atenciosamente cumprimentos desculpe hoje amanhã sair estacionamento também ao às ' +
        'pelo pela com uma tem estão pequeno-almoço café-da-manhã barulho chegada saída',
    ),
    letters: /[ãõ]/,
  },
  {
    name: 'Polish',
    words: words(
      'nie się że jest są czy bardzo proszę dziękuję dzień dobry pokój pokoju śniadanie rezerwacja przyjazd wyjazd ' +
        'później wcześniej hałas ręczniki łazienka możliwe mam mamy jestem też jak kiedy dlaczego pozdrawiam ' +
        'przepraszam dzisiaj jutro wieczorem chciałbym chciałabym możemy',
    ),
    letters: /[ąęłńśźżć]/,
  },
  {
    name: 'Czech',
    words: words(
      'prosím děkuji dobrý pokoj snídaně rezervace příjezd odjezd později dříve hluk ručníky koupelna možné jsou ' +
        'bylo máme jsem velmi také kdy proč pozdravem omlouvám dnes zítra večer bych mohli',
    ),
    letters: /[řěů]/,
  },
  {
    name: 'Swedish',
    words: words(
      'jag och inte tack hej rummet frukost bokning ankomst avresa senare tidigare handdukar badrum vatten möjligt ' +
        'skulle vill mycket vänliga hälsningar ursäkta idag imorgon kväll natt är ett att som på från också',
    ),
  },
  {
    name: 'Danish or Norwegian',
    words: words(
      'jeg ikke tak værelse værelset rommet morgenmad frokost afrejse senere tidligere håndklæder badeværelse vand ' +
        'mulig kunne meget venlig hilsen undskyld aften og på fra også hvor hvornår',
    ),
    letters: /[øæ]/,
  },
  {
    name: 'Turkish',
    words: words(
      'ben sen biz siz değil lütfen teşekkür teşekkürler merhaba iyi günler oda odası odadan kahvaltı rezervasyon ' +
        'varış çıkış daha geç erken gürültü havlu banyo mümkün mü miyiz musunuz misiniz istiyorum çok saygılarımla ' +
        'özür bugün yarın akşam gece ve bir bu için ile ama',
    ),
    letters: /[ğış]/,
  },
  {
    name: 'Hungarian',
    words: words(
      'nem kérem köszönöm jó napot szoba szobát reggeli foglalás érkezés távozás később korábban zaj törölköző ' +
        'fürdőszoba víz lehetséges tudnák szeretném szeretnénk nagyon üdvözlettel elnézést holnap éjszaka és ' +
        'egy az hogy vagy',
    ),
    letters: /[őű]/,
  },
  {
    name: 'Romanian',
    words: words(
      'și mulțumesc vă rog bună ziua sosire plecare târziu devreme zgomot prosoape baie apă posibil aș dori foarte ' +
        'stimă scuze îmi pare rău astăzi mâine noapte sunt pentru eu',
    ),
    letters: /[șțşţă]/,
  },
];

/** Each word of OTHER_LATIN_LANGUAGES with the languages it scores for, one bit per language in their order. */
const OTHER_WORD_LANGUAGES: ReadonlyMap<string, number> = (() => {
  const bits = new Map<string, number>();
  OTHER_LATIN_LANGUAGES.forEach(({ words: list }, index) => {
    for (const word of list) bits.set(word, (bits.get(word) ?? 0) | (1 << index));
  });
  return bits;
})();

/** As LETTER_BITS and ANY_LANGUAGE_LETTER, for OTHER_LATIN_LANGUAGES. */
const OTHER_LETTER_BITS: readonly (readonly [RegExp, number])[] = OTHER_LATIN_LANGUAGES.flatMap(({ letters }, index) =>
  letters ? [[letters, 1 << index] as const] : [],
);
const ANY_OTHER_LETTER = new RegExp(OTHER_LETTER_BITS.map(([letters]) => letters.source).join('|'));

/**
 * How many words a text needs in another Latin-script language before it is read as that
 * language: a guest's name or one borrowed word (Smörgåsbord, São Paulo) is no message.
 */
const OTHER_LANGUAGE_MIN_WORDS = 2;

/**
 * The Latin-script language, none of GUEST_LANGUAGES, the text is in (OTHER_LATIN_LANGUAGES): the
 * one that scores more words than any guest language does, and at least OTHER_LANGUAGE_MIN_WORDS,
 * as detectLanguage scores; null when a guest language scores as many.
 */
export function otherLatinLanguage(text: string): string | null {
  const comparable = comparableText(text);
  const guestScores = new Array<number>(GUEST_LANGUAGES.length).fill(0);
  const otherScores = new Array<number>(OTHER_LATIN_LANGUAGES.length).fill(0);
  forEachWord(comparable, (word) => {
    const guestBits = languageBits(word);
    for (let index = 0; index < guestScores.length; index++) if (guestBits & (1 << index)) guestScores[index]++;
    let otherBits = OTHER_WORD_LANGUAGES.get(word) ?? 0;
    if (ANY_OTHER_LETTER.test(word)) for (const [letters, bit] of OTHER_LETTER_BITS) if (letters.test(word)) otherBits |= bit;
    for (let index = 0; index < otherScores.length; index++) if (otherBits & (1 << index)) otherScores[index]++;
  });
  const bestGuest = Math.max(...guestScores);
  let best = -1;
  otherScores.forEach((score, index) => {
    if (score >= OTHER_LANGUAGE_MIN_WORDS && score > bestGuest && (best < 0 || score > otherScores[best])) best = index;
  });
  return best < 0 ? null : OTHER_LATIN_LANGUAGES[best].name;
}

/**
 * Calls visit with each word of comparable text, and with each part of a hyphenated word too.
 * Marks stay in the word: a letter and mark with no precomposed form must not split it.
 */
function forEachWord(comparable: string, visit: (word: string) => void): void {
  for (const word of comparable.split(/[^\p{L}\p{M}-]+/u)) {
    if (!word) continue;
    visit(word);
    if (word.includes('-')) for (const part of word.split('-')) if (part) visit(part);
  }
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
    const bits = languageBits(word);
    if (bits === 0) return;
    for (let index = 0; index < scores.length; index++) if (bits & (1 << index)) scores[index]++;
  };
  forEachWord(comparable, score);
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
 * locale stated in payload.language, the script the guest writes in, or the other Latin-script
 * language they write (otherLatinLanguage); null when it is one of them or not known to be another
 * (Latin text in a language OTHER_LATIN_LANGUAGES does not know reads as the nearest of them).
 */
export function unsupportedLanguage(input: GuestRequestText): string | null {
  const stated = input.payload.language;
  if (typeof stated === 'string' && LOCALE.test(stated.trim())) return normalizeLanguage(stated) ? null : `the locale "${stated.trim()}"`;
  const text = guestText(input);
  const script = foreignScript(text);
  if (script !== null) return `text in ${script}`;
  const language = otherLatinLanguage(text);
  return language === null ? null : `text in ${language}`;
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
