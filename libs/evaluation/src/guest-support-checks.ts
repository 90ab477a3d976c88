import { comparableText, detectLanguage, guestLanguage, guestText, LANGUAGE_NAMES, normalizeLanguage, unsupportedLanguage } from '@app/llm';
import { GUEST_LANGUAGES, Mission } from '@app/mission';
import { CheckResult, CriterionChecks, met, missed, partly, textOf, textsOf } from './check-result';

interface RequestTopic {
  tag: string;
  label: string;
  /** What in the guest's request shows this topic; deliberately broader than any one client's wording. */
  request: RegExp;
  /** What in a reply shows that the topic was answered, in any of the guests' languages. */
  reply: RegExp;
}

const TOPICS: readonly RequestTopic[] = [
  {
    tag: 'late_checkout',
    label: 'the late check-out',
    request: /check-?out|auscheck|uitcheck|départ tardif|quitter la chambre|salida (tardía|más tarde)|lasciare la camera/,
    reply: /check-?out|check out|auscheck|abreise|uit te checken|uitcheck|départ|partenza|salida/,
  },
  {
    tag: 'early_checkin',
    label: 'the early check-in',
    request: /check-?in|einchecken|early arrival|frühe anreise|inchecken|arrivée anticipée|arrivo anticipato|llegada temprana/,
    reply: /check-?in|einchecken|anreise|arrival|arrivée|arrivo|llegada|aankomst/,
  },
  {
    tag: 'noise_complaint',
    label: 'the noise',
    request: /nois|loud|lärm|laut|music|musik|party|bruit|bruyant|rumor|ruido|lawaai|herrie|luid/,
    reply: /nois|quiet|disturb|lärm|ruhig|ruhe|gestört|bruit|calme|rumore|tranquill|ruido|tranquil|lawaai|rustig/,
  },
  {
    tag: 'housekeeping',
    label: 'the room cleaning',
    request:
      /towel|handtuch|handtücher|dirty|schmutzig|housekeeping|clean|gereinigt|sauber|bettwäsche|sheets|serviette|asciugaman|toalla|handdoek|sale|sporco|sucia|vuil/,
    reply: /housekeeping|clean|towel|reinig|handtücher|sauber|ménage|serviette|pulizia|asciugaman|limpieza|toalla|schoonmaak|handdoek/,
  },
  {
    tag: 'breakfast',
    label: 'breakfast',
    request: /breakfast|frühstück|petit-déjeuner|colazione|desayuno|ontbijt/,
    reply: /breakfast|frühstück|petit-déjeuner|colazione|desayuno|ontbijt/,
  },
  {
    tag: 'parking',
    label: 'parking',
    request: /park|garage|stationnement|parcheggio|aparcamiento|garaje/,
    reply: /park|garage|stationnement|parcheggio|aparcamiento|garaje/,
  },
  {
    tag: 'booking_change',
    label: 'the booking change',
    request:
      /umbuch|booking change|change (my|the|our) (booking|reservation|dates)|(buchung|reservierung) ändern|extend|verlänger|storn|cancel|modifier (ma|la|notre) réservation|modificare (la|la mia) prenotazione|cambiar (mi|la) reserva|boeking (wijzigen|omzetten|aanpassen)/,
    reply: /booking|reservation|buchung|reservierung|stay|aufenthalt|réservation|séjour|prenotazione|soggiorno|reserva|estancia|boeking|reservering|verblijf/,
  },
];

const GREETING =
  /\b(dear|hello|hi|good (morning|afternoon|evening))\b|guten (tag|morgen|abend)|hallo|\blieber?\b|sehr geehrte|grüß gott|servus|moin|bonjour|bonsoir|\bch(er|ère)\b|madame|monsieur|buongiorno|buonasera|gentile|\bcar[oa]\b|\bhola\b|estimad[oa]|buen(os|as) (días|tardes)|\bbeste\b|geachte|goede(morgen|middag|navond)/;
const THANKS =
  /thank|sorry|apologi[sz]e|regret|danke|\bdank\b|leid|entschuldig|bedauer|merci|désolé|excus|grazie|dispiace|scus|gracias|sentimos|disculp|lament|bedankt|spijt|excuses/;
const CLOSING =
  /regards|sincerely|best wishes|look forward|grüße|grüßen|gruß|freuen uns|cordialement|salutations|cordiali saluti|distinti saluti|atentamente|saludos|met vriendelijke groet|groeten/;

/** Prices, clock times and room numbers: the facts a model most likes to make up. */
const FACTS: ReadonlyArray<{ kind: string; pattern: RegExp }> = [
  { kind: 'price', pattern: /(?:€|\beur\b|\beuro\b|\busd\b|\$|\bchf\b|£)\s?(\d+(?:[.,]\d+)?)|(\d+(?:[.,]\d+)?)\s?(?:€|eur\b|euros?\b|usd\b|chf\b|£)/gi },
  { kind: 'time', pattern: /\b(\d{1,2})[:.]\d{2}\b|\b(\d{1,2})\s?(?:uhr|am|pm|a\.m\.|p\.m\.)(?![a-z])/gi },
  { kind: 'room number', pattern: /\b(?:room|zimmer|suite)\s?(?:no\.?|nr\.?|number|nummer)?\s?#?(\d{1,4})\b/gi },
];

const STOPWORDS = new Set(
  'about after also been bitte could from have hotel ihre ihren möchte please room sehr that their there this with would zimmer guest gast'.split(' '),
);

export function checkGuestSupport(mission: Mission, output: Record<string, unknown>): CriterionChecks {
  const reply = textOf(output.reply);
  return {
    addresses_request: addressesRequest(mission, reply),
    right_language: rightLanguage(mission, reply, output.language),
    polite: polite(reply),
    no_invented_facts: noInventedFacts(mission, reply),
    actions_present: textsOf(output.actions).length > 0 ? met() : missed('list at least one follow-up action for the staff'),
  };
}

function addressesRequest(mission: Mission, reply: string): CheckResult {
  if (!reply) return missed('the reply is empty');
  const request = comparableText(`${mission.title} ${mission.description} ${guestText(mission)}`);
  const answer = comparableText(reply);
  const tag = mission.payload.requestType;
  const topics = TOPICS.filter((t) => t.tag === tag || t.request.test(request));
  if (topics.length > 0) {
    if (topics.some((t) => t.reply.test(answer))) return met();
    return missed(`the reply does not mention ${topics.map((t) => t.label).join(' or ')}, which the guest asked about`);
  }
  const wanted = significantWords(request);
  if (wanted.size === 0 || [...significantWords(answer)].some((word) => wanted.has(word))) return met();
  return missed('the reply does not refer to anything the guest wrote about');
}

/**
 * Why no agent can answer this guest in their language: it is none of GUEST_LANGUAGES, the only
 * ones a guest_support output may name, so every reply fails right_language (permanentFailure).
 */
export function unanswerableGuestLanguage(mission: Mission): string | null {
  const unsupported = unsupportedLanguage(mission);
  if (unsupported === null) return null;
  return `the guest's language (${unsupported}) is none of the supported languages (${GUEST_LANGUAGES.join(', ')}); a person must answer this guest`;
}

function rightLanguage(mission: Mission, reply: string, declared: unknown): CheckResult {
  const unanswerable = unanswerableGuestLanguage(mission);
  if (unanswerable !== null) return missed(unanswerable);
  const expected = guestLanguage(mission);
  if (!reply) return missed('the reply is empty');
  const written = detectLanguage(reply);
  if (written !== expected) {
    const language = written === null ? 'none of the supported languages' : LANGUAGE_NAMES[written];
    return missed(`the reply is written in ${language}, but the guest needs ${LANGUAGE_NAMES[expected]}`);
  }
  const field = normalizeLanguage(declared);
  if (field !== expected) return partly(0.5, `the language field says "${String(declared)}", but the guest's language is "${expected}"`);
  return met();
}

function polite(reply: string): CheckResult {
  const text = comparableText(reply);
  const missing = [
    GREETING.test(text) ? null : 'a greeting',
    THANKS.test(text) ? null : 'thanks or an apology',
    CLOSING.test(text) ? null : 'a closing such as "Kind regards"',
  ].filter((part): part is string => part !== null);
  if (missing.length === 0) return met();
  return partly((3 - missing.length) / 3, `the reply lacks ${missing.join(', ')}`);
}

function noInventedFacts(mission: Mission, reply: string): CheckResult {
  const known = numbersIn(`${mission.title} ${mission.description} ${JSON.stringify(mission.payload)}`);
  const invented: string[] = [];
  for (const { kind, pattern } of FACTS) {
    for (const match of reply.matchAll(pattern)) {
      const value = match.slice(1).find((group) => group !== undefined);
      if (value !== undefined && !known.has(normalizeNumber(value))) invented.push(`"${match[0].trim()}" (${kind})`);
    }
  }
  if (invented.length === 0) return met();
  return missed(`the reply states ${invented.join(', ')}, which the mission data does not contain; remove it or say the team will check`);
}

function numbersIn(text: string): Set<string> {
  const numbers = new Set<string>();
  for (const [value] of text.matchAll(/\d+(?:[.,]\d+)?/g)) {
    numbers.add(normalizeNumber(value));
    numbers.add(normalizeNumber(value.split(/[.,]/)[0]));
  }
  return numbers;
}

/** "14", "14.00" and "014" are the same fact. */
function normalizeNumber(value: string): string {
  return String(Number.parseFloat(value.replace(',', '.')));
}

function significantWords(text: string): Set<string> {
  return new Set(text.split(/[^\p{L}]+/u).filter((word) => word.length >= 4 && !STOPWORDS.has(word)));
}
