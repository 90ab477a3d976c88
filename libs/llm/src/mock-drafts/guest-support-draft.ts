import { GuestLanguage, guestLanguage, guestText } from '../language';
import { LlmMissionContext } from '../llm-client';
import { GuestSupportOutput } from '../output-schemas';
import { pick, Rng } from '../prng';
import { detectGuestTopic, GuestTopic } from './guest-topics';
import { recordField, shortFeedback, textField } from './payload-fields';

/** Only what the ERP told us; the reply must never state a time, price or room that is not here. */
interface GuestFacts {
  name?: string;
  room?: string;
  time?: string;
  arrival?: string;
  departure?: string;
  bookingRef?: string;
  vip: boolean;
  subject: string;
}

type Body = (facts: GuestFacts) => readonly string[];

const BODIES: Readonly<Record<GuestTopic, Readonly<Record<GuestLanguage, Body>>>> = {
  late_checkout: {
    en: (f) => [
      `We have noted your request for a late check-out${f.time ? ` until ${f.time}` : ''}. Our front office will confirm availability on the morning of your departure.`,
      `We are happy to arrange a late check-out${f.time ? ` until ${f.time}` : ''} whenever occupancy allows, and we are checking this for you now.`,
    ],
    de: (f) => [
      `Wir haben Ihren Wunsch nach einem späten Check-out${f.time ? ` bis ${f.time} Uhr` : ''} notiert. Unser Empfang bestätigt Ihnen die Verfügbarkeit am Morgen Ihrer Abreise.`,
      `Einen späten Check-out${f.time ? ` bis ${f.time} Uhr` : ''} ermöglichen wir gerne, sofern es die Belegung zulässt, und wir prüfen das gerade für Sie.`,
    ],
  },
  early_checkin: {
    en: (f) => [
      `We have noted your wish for an early check-in${f.time ? ` at ${f.time}` : ''}. We will prepare your room as early as possible and you are welcome to leave your luggage with us until then.`,
    ],
    de: (f) => [
      `Wir haben Ihren Wunsch nach einem frühen Check-in${f.time ? ` um ${f.time} Uhr` : ''} notiert. Wir bereiten Ihr Zimmer so früh wie möglich vor, und Ihr Gepäck können Sie gerne schon bei uns abgeben.`,
    ],
  },
  noise: {
    en: (f) => [
      `We are very sorry that your rest was disturbed by noise${f.room ? ` near room ${f.room}` : ''}. Our night manager is looking into the source right away, and we will gladly move you to a quieter room if you wish.`,
      `We apologise for the noise${f.room ? ` near room ${f.room}` : ''}. Our duty manager is taking care of it now, and a quieter room is available to you if you would prefer to move.`,
    ],
    de: (f) => [
      `Es tut uns sehr leid, dass Ihre Nachtruhe durch Lärm${f.room ? ` in der Nähe von Zimmer ${f.room}` : ''} gestört wurde. Unser Nachtmanager kümmert sich sofort darum, und auf Wunsch ziehen Sie gerne in ein ruhigeres Zimmer um.`,
    ],
  },
  housekeeping: {
    en: (f) => [
      `We are sorry that your room${f.room ? ` ${f.room}` : ''} was not up to our standards. Housekeeping will take care of it right away and bring fresh towels and anything else you need.`,
    ],
    de: (f) => [
      `Es tut uns leid, dass Ihr Zimmer${f.room ? ` ${f.room}` : ''} nicht unserem Standard entsprach. Unser Housekeeping kümmert sich sofort darum und bringt Ihnen frische Handtücher und alles, was Sie benötigen.`,
    ],
  },
  breakfast: {
    en: () => [`We have passed your breakfast request on to our kitchen team, who will gladly take your wishes into account.`],
    de: () => [`Wir haben Ihren Wunsch zum Frühstück an unser Küchenteam weitergegeben, das ihn gerne berücksichtigt.`],
  },
  parking: {
    en: () => [`Regarding parking, we are checking availability in our garage for your stay and will reserve a space for you if one is free.`],
    de: () => [`Gerne prüfen wir einen Parkplatz in unserer Tiefgarage für Ihren Aufenthalt und reservieren ihn für Sie, sofern einer frei ist.`],
  },
  booking_change: {
    en: (f) => [
      `We have received your request to change your booking${f.bookingRef ? ` ${f.bookingRef}` : ''}${f.arrival && f.departure ? ` to arrive on ${f.arrival} and depart on ${f.departure}` : ''}. Our reservations team is checking availability and will confirm the new details in writing shortly.`,
    ],
    de: (f) => [
      `Wir haben Ihren Wunsch erhalten, Ihre Buchung${f.bookingRef ? ` ${f.bookingRef}` : ''}${f.arrival && f.departure ? ` auf Anreise am ${f.arrival} und Abreise am ${f.departure}` : ''} zu ändern. Unser Reservierungsteam prüft die Verfügbarkeit und bestätigt Ihnen die neuen Daten in Kürze schriftlich.`,
    ],
  },
  general: {
    en: (f) => [
      `We have received your request regarding "${f.subject}" and our team is taking care of it. We will get back to you personally as soon as possible.`,
    ],
    de: (f) => [`Wir haben Ihr Anliegen „${f.subject}“ erhalten und kümmern uns darum. Wir melden uns so schnell wie möglich persönlich bei Ihnen.`],
  },
};

const THANKS: Readonly<Record<GuestLanguage, readonly string[]>> = {
  en: ['Thank you for your message.', 'Thank you for getting in touch with us.'],
  de: ['Vielen Dank für Ihre Nachricht.', 'Herzlichen Dank, dass Sie sich bei uns melden.'],
};
const CLOSINGS: Readonly<Record<GuestLanguage, readonly string[]>> = {
  en: ['Kind regards,\nYour front office team', 'Warm regards,\nThe reception team'],
  de: ['Mit freundlichen Grüßen\nIhr Empfangsteam', 'Herzliche Grüße\nIhr Front-Office-Team'],
};
const VIP_LINE: Readonly<Record<GuestLanguage, string>> = {
  en: 'As one of our valued regular guests, you can count on us to make this as easy as possible for you.',
  de: 'Als geschätzter Stammgast können Sie sich darauf verlassen, dass wir alles möglich machen.',
};

const ACTIONS: Readonly<Record<GuestTopic, (f: GuestFacts) => string[]>> = {
  late_checkout: (f) => [
    `Check the housekeeping plan for a late check-out${f.time ? ` until ${f.time}` : ''}`,
    'Confirm the late check-out to the guest and note it on the booking',
  ],
  early_checkin: () => ['Ask housekeeping to prioritise the room', 'Offer luggage storage on arrival'],
  noise: (f) => [`Send the night manager to check the noise source${f.room ? ` near room ${f.room}` : ''}`, 'Offer the guest a move to a quieter room'],
  housekeeping: (f) => [`Send housekeeping to room ${f.room ?? '(see ticket)'} with fresh towels`, 'Supervisor to inspect the room afterwards'],
  breakfast: () => ['Forward the breakfast request to the kitchen team'],
  parking: () => ['Check garage availability and reserve a space'],
  booking_change: (f) => [`Check availability for the changed dates${f.bookingRef ? ` on ${f.bookingRef}` : ''}`, 'Send the updated confirmation to the guest'],
  general: () => ['Assign the request to the responsible department', 'Follow up with the guest within 24 hours'],
};

/**
 * Flawed drafts invent an upsell price, the classic hallucination the judge's
 * "no invented facts" criterion exists for.
 */
export function draftGuestSupport(context: LlmMissionContext, rng: Rng, flawed: boolean): GuestSupportOutput {
  const language = guestLanguage(context);
  const text = `${context.title} ${context.description} ${guestText(context)}`;
  const topic = detectGuestTopic(context.payload, text);
  const facts = guestFacts(context);
  const greeting = facts.name ? pick(rng, greetings(language, facts.name)) : language === 'de' ? 'Guten Tag,' : 'Dear guest,';
  const sentences = [pick(rng, THANKS[language]), pick(rng, BODIES[topic][language](facts))];
  if (facts.vip) sentences.push(VIP_LINE[language]);
  if (flawed) sentences.push(upsell(language, inventedPrice(context)));
  const body = sentences.join(' ');
  const reply = `${greeting}\n\n${language === 'de' ? lowerFirst(body) : body}\n\n${pick(rng, CLOSINGS[language])}`;
  const actions = ACTIONS[topic](facts);
  if (facts.vip) actions.push('Inform the guest relations manager (VIP guest)');
  const feedback = shortFeedback(context.feedback);
  if (feedback) actions.push(`Draft revised after review: ${feedback}`);
  return { language, reply, actions };
}

function guestFacts(context: LlmMissionContext): GuestFacts {
  const payload = context.payload;
  const guest = recordField(payload, 'guest');
  return {
    name: textField(guest, 'name'),
    room: textField(payload, 'roomNumber'),
    time: textField(payload, 'requestedTime'),
    arrival: textField(payload, 'newArrival'),
    departure: textField(payload, 'newDeparture'),
    bookingRef: textField(payload, 'bookingRef'),
    vip: guest.vip === true || payload.vip === true,
    subject: context.title,
  };
}

function greetings(language: GuestLanguage, name: string): string[] {
  return language === 'de' ? [`Guten Tag ${name},`, `Hallo ${name},`] : [`Dear ${name},`, `Hello ${name},`];
}

/** German letters continue lowercase after the comma of the salutation. */
function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function upsell(language: GuestLanguage, price: number): string {
  return language === 'de'
    ? `Gerne bieten wir Ihnen außerdem ein Upgrade für nur ${price} EUR pro Nacht an.`
    : `We can also offer you a room upgrade for only ${price} EUR per night.`;
}

/** A price that appears nowhere in the mission, so the invention is always detectable. */
function inventedPrice(context: LlmMissionContext): number {
  const known = `${context.title} ${context.description} ${JSON.stringify(context.payload)}`;
  let price = 35;
  while (known.includes(String(price))) price += 5;
  return price;
}
