export type GuestLanguage = 'de' | 'en';

// Words frequent in one language and rare in the other; shared ones (in, was, so, an, will) are left out.
const GERMAN = new Set(
  (
    'ich du sie wir ihr ihre ihren ihnen uns mein meine meinen nicht bitte danke dank vielen zimmer frühstück und oder ' +
    'der die das den dem des ein eine einen einem ist sind war wäre haben hatte habe hat mit für auf aus bei von zu zur ' +
    'zum noch auch aber dass wenn kann können könnten möchte möchten würde würden sehr gerne gern guten tag hallo liebe ' +
    'lieber grüße grüßen gruß leider heute morgen abend nacht wie wo wann warum schon mehr kein keine unser unsere ' +
    'buchung reservierung anreise abreise später früher laut lärm klimaanlage heizung wasser dusche gast gäste ' +
    'herzlich freundlichen uhr zimmernummer sich um nach über durch'
  ).split(' '),
);
const ENGLISH = new Set(
  (
    'i you we they he she it my your our their me us not please thank thanks room breakfast and or the a of to is are ' +
    'was were be been have has had with for at from by on this that these those would could should can do does did ' +
    'very dear hello hi regards best sorry today tomorrow evening night how where when why already more no any ' +
    'booking reservation arrival departure later earlier loud noise air conditioning heating water shower bathroom ' +
    'guest guests sincerely number just about after through there here what which'
  ).split(' '),
);

/** Word-count heuristic; good enough for short guest messages, ties go to English. */
export function detectLanguage(text: string): GuestLanguage {
  let german = 0;
  let english = 0;
  for (const word of text.toLowerCase().split(/[^\p{L}]+/u)) {
    if (!word) continue;
    if (GERMAN.has(word) || /[äöüß]/.test(word)) german++;
    if (ENGLISH.has(word)) english++;
  }
  return german > english ? 'de' : 'en';
}

/** Accepts "de", "DE", "de_DE", "en-GB" (Odoo stores partner languages as locales). */
export function normalizeLanguage(value: unknown): GuestLanguage | null {
  if (typeof value !== 'string') return null;
  const code = value.trim().toLowerCase().slice(0, 2);
  return code === 'de' || code === 'en' ? code : null;
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

export function guestLanguage(input: GuestRequestText): GuestLanguage {
  return normalizeLanguage(input.payload.language) ?? detectLanguage(guestText(input));
}
