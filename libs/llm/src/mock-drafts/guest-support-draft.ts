import { GuestLanguage, GuestSupportOutput } from '@app/mission';
import { guestLanguage, guestText } from '../language';
import { LlmMissionContext } from '../llm-client';
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
    fr: (f) => [
      `Nous avons bien noté votre demande de check-out tardif${f.time ? ` jusqu'à ${f.time}` : ''}. Notre réception vous confirmera la disponibilité le matin de votre départ.`,
    ],
    it: (f) => [
      `Abbiamo preso nota della sua richiesta di un check-out posticipato${f.time ? ` fino alle ${f.time}` : ''}. La nostra reception le confermerà la disponibilità la mattina della partenza.`,
    ],
    es: (f) => [
      `Hemos anotado su solicitud de un check-out más tarde${f.time ? ` hasta las ${f.time}` : ''}. Nuestra recepción le confirmará la disponibilidad la mañana de su salida.`,
    ],
    nl: (f) => [
      `Wij hebben uw verzoek om later uit te checken${f.time ? ` tot ${f.time} uur` : ''} genoteerd. Onze receptie bevestigt de beschikbaarheid van een late check-out op de ochtend van uw vertrek.`,
    ],
  },
  early_checkin: {
    en: (f) => [
      `We have noted your wish for an early check-in${f.time ? ` at ${f.time}` : ''}. We will prepare your room as early as possible and you are welcome to leave your luggage with us until then.`,
    ],
    de: (f) => [
      `Wir haben Ihren Wunsch nach einem frühen Check-in${f.time ? ` um ${f.time} Uhr` : ''} notiert. Wir bereiten Ihr Zimmer so früh wie möglich vor, und Ihr Gepäck können Sie gerne schon bei uns abgeben.`,
    ],
    fr: (f) => [
      `Nous avons bien noté votre souhait d'un check-in anticipé${f.time ? ` à ${f.time}` : ''}. Nous préparons votre chambre le plus tôt possible et vous pouvez nous confier vos bagages en attendant.`,
    ],
    it: (f) => [
      `Abbiamo preso nota del suo desiderio di un check-in anticipato${f.time ? ` alle ${f.time}` : ''}. Prepareremo la sua camera il prima possibile e nel frattempo può lasciare i bagagli da noi.`,
    ],
    es: (f) => [
      `Hemos anotado su deseo de hacer el check-in temprano${f.time ? ` a las ${f.time}` : ''}. Prepararemos su habitación lo antes posible y mientras tanto puede dejar su equipaje con nosotros.`,
    ],
    nl: (f) => [
      `Wij hebben uw wens voor een vroege check-in${f.time ? ` om ${f.time} uur` : ''} genoteerd. Wij maken uw kamer zo vroeg mogelijk klaar en tot die tijd kunt u uw bagage bij ons achterlaten.`,
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
    fr: (f) => [
      `Nous sommes vraiment désolés que votre nuit ait été troublée par le bruit${f.room ? ` près de la chambre ${f.room}` : ''}. Notre responsable de nuit s'en occupe tout de suite, et nous vous proposons volontiers une chambre plus calme.`,
    ],
    it: (f) => [
      `Ci dispiace molto che il suo riposo sia stato disturbato dal rumore${f.room ? ` vicino alla camera ${f.room}` : ''}. Il nostro responsabile di notte se ne occupa subito e, se lo desidera, le offriamo una camera più tranquilla.`,
    ],
    es: (f) => [
      `Sentimos mucho que el ruido${f.room ? ` cerca de la habitación ${f.room}` : ''} haya perturbado su descanso. Nuestro responsable de noche se ocupa de ello ahora mismo y, si lo desea, le ofrecemos una habitación más tranquila.`,
    ],
    nl: (f) => [
      `Het spijt ons zeer dat uw nachtrust werd verstoord door lawaai${f.room ? ` bij kamer ${f.room}` : ''}. Onze nachtmanager gaat er direct op af, en als u dat wilt kunt u naar een rustigere kamer verhuizen.`,
    ],
  },
  housekeeping: {
    en: (f) => [
      `We are sorry that your room${f.room ? ` ${f.room}` : ''} was not up to our standards. Housekeeping will take care of it right away and bring fresh towels and anything else you need.`,
    ],
    de: (f) => [
      `Es tut uns leid, dass Ihr Zimmer${f.room ? ` ${f.room}` : ''} nicht unserem Standard entsprach. Unser Housekeeping kümmert sich sofort darum und bringt Ihnen frische Handtücher und alles, was Sie benötigen.`,
    ],
    fr: (f) => [
      `Nous sommes désolés que votre chambre${f.room ? ` ${f.room}` : ''} ne soit pas à la hauteur de nos standards. Notre service de ménage s'en occupe tout de suite et vous apporte des serviettes propres et tout ce dont vous avez besoin.`,
    ],
    it: (f) => [
      `Ci dispiace che la sua camera${f.room ? ` ${f.room}` : ''} non fosse all'altezza dei nostri standard. Il nostro servizio di pulizia se ne occupa subito e le porta asciugamani puliti e tutto ciò di cui ha bisogno.`,
    ],
    es: (f) => [
      `Sentimos que su habitación${f.room ? ` ${f.room}` : ''} no estuviera a la altura de nuestros estándares. Nuestro servicio de limpieza se ocupa ahora mismo y le lleva toallas limpias y todo lo que necesite.`,
    ],
    nl: (f) => [
      `Het spijt ons dat uw kamer${f.room ? ` ${f.room}` : ''} niet aan onze standaard voldeed. Onze schoonmaakdienst komt direct langs en brengt u schone handdoeken en alles wat u nodig heeft.`,
    ],
  },
  breakfast: {
    en: () => [`We have passed your breakfast request on to our kitchen team, who will gladly take your wishes into account.`],
    de: () => [`Wir haben Ihren Wunsch zum Frühstück an unser Küchenteam weitergegeben, das ihn gerne berücksichtigt.`],
    fr: () => [`Nous avons transmis votre demande pour le petit-déjeuner à notre équipe de cuisine, qui en tiendra compte avec plaisir.`],
    it: () => [`Abbiamo inoltrato la sua richiesta per la colazione alla nostra cucina, che ne terrà conto con piacere.`],
    es: () => [`Hemos trasladado su petición sobre el desayuno a nuestro equipo de cocina, que la tendrá en cuenta con mucho gusto.`],
    nl: () => [`Wij hebben uw verzoek voor het ontbijt doorgegeven aan ons keukenteam, dat er graag rekening mee houdt.`],
  },
  parking: {
    en: () => [`Regarding parking, we are checking availability in our garage for your stay and will reserve a space for you if one is free.`],
    de: () => [`Gerne prüfen wir einen Parkplatz in unserer Tiefgarage für Ihren Aufenthalt und reservieren ihn für Sie, sofern einer frei ist.`],
    fr: () => [
      `Pour le stationnement, nous vérifions la disponibilité d'une place dans notre parking pour votre séjour et nous vous la réservons si une place est libre.`,
    ],
    it: () => [`Per il parcheggio, stiamo verificando la disponibilità di un posto nel nostro garage per il suo soggiorno e glielo riserviamo se è libero.`],
    es: () => [
      `Sobre el aparcamiento, estamos comprobando la disponibilidad de una plaza en nuestro garaje para su estancia y se la reservamos si hay una libre.`,
    ],
    nl: () => [`Wat het parkeren betreft, wij kijken of er tijdens uw verblijf een parkeerplaats in onze garage vrij is en reserveren die graag voor u.`],
  },
  booking_change: {
    en: (f) => [
      `We have received your request to change your booking${f.bookingRef ? ` ${f.bookingRef}` : ''}${f.arrival && f.departure ? ` to arrive on ${f.arrival} and depart on ${f.departure}` : ''}. Our reservations team is checking availability and will confirm the new details in writing shortly.`,
    ],
    de: (f) => [
      `Wir haben Ihren Wunsch erhalten, Ihre Buchung${f.bookingRef ? ` ${f.bookingRef}` : ''}${f.arrival && f.departure ? ` auf Anreise am ${f.arrival} und Abreise am ${f.departure}` : ''} zu ändern. Unser Reservierungsteam prüft die Verfügbarkeit und bestätigt Ihnen die neuen Daten in Kürze schriftlich.`,
    ],
    fr: (f) => [
      `Nous avons bien reçu votre demande de modification de votre réservation${f.bookingRef ? ` ${f.bookingRef}` : ''}${f.arrival && f.departure ? ` pour une arrivée le ${f.arrival} et un départ le ${f.departure}` : ''}. Notre service des réservations vérifie la disponibilité et vous confirmera les nouvelles dates par écrit.`,
    ],
    it: (f) => [
      `Abbiamo ricevuto la sua richiesta di modificare la prenotazione${f.bookingRef ? ` ${f.bookingRef}` : ''}${f.arrival && f.departure ? ` con arrivo il ${f.arrival} e partenza il ${f.departure}` : ''}. Il nostro ufficio prenotazioni verifica la disponibilità e le confermerà le nuove date per iscritto.`,
    ],
    es: (f) => [
      `Hemos recibido su solicitud para cambiar su reserva${f.bookingRef ? ` ${f.bookingRef}` : ''}${f.arrival && f.departure ? ` con llegada el ${f.arrival} y salida el ${f.departure}` : ''}. Nuestro equipo de reservas está comprobando la disponibilidad y le confirmará las nuevas fechas por escrito.`,
    ],
    nl: (f) => [
      `Wij hebben uw verzoek ontvangen om uw boeking${f.bookingRef ? ` ${f.bookingRef}` : ''}${f.arrival && f.departure ? ` te wijzigen naar aankomst op ${f.arrival} en vertrek op ${f.departure}` : ' te wijzigen'}. Ons reserveringsteam kijkt naar de beschikbaarheid en bevestigt u de nieuwe gegevens schriftelijk.`,
    ],
  },
  general: {
    en: (f) => [
      `We have received your request regarding "${f.subject}" and our team is taking care of it. We will get back to you personally as soon as possible.`,
    ],
    de: (f) => [`Wir haben Ihr Anliegen „${f.subject}“ erhalten und kümmern uns darum. Wir melden uns so schnell wie möglich persönlich bei Ihnen.`],
    fr: (f) => [
      `Nous avons bien reçu votre demande concernant « ${f.subject} » et notre équipe s'en occupe. Nous revenons vers vous personnellement dès que possible.`,
    ],
    it: (f) => [
      `Abbiamo ricevuto la sua richiesta riguardo a «${f.subject}» e il nostro team se ne sta occupando. La ricontatteremo personalmente il prima possibile.`,
    ],
    es: (f) => [
      `Hemos recibido su solicitud sobre «${f.subject}» y nuestro equipo se está ocupando de ella. Nos pondremos en contacto con usted personalmente lo antes posible.`,
    ],
    nl: (f) => [`Wij hebben uw verzoek over "${f.subject}" ontvangen en ons team is ermee bezig. Wij nemen zo snel mogelijk persoonlijk contact met u op.`],
  },
};

const THANKS: Readonly<Record<GuestLanguage, readonly string[]>> = {
  en: ['Thank you for your message.', 'Thank you for getting in touch with us.'],
  de: ['Vielen Dank für Ihre Nachricht.', 'Herzlichen Dank, dass Sie sich bei uns melden.'],
  fr: ['Merci beaucoup pour votre message.', 'Merci de nous avoir contactés.'],
  it: ['Grazie mille per il suo messaggio.', 'Grazie per averci contattato.'],
  es: ['Muchas gracias por su mensaje.', 'Gracias por ponerse en contacto con nosotros.'],
  nl: ['Hartelijk dank voor uw bericht.', 'Bedankt dat u contact met ons opneemt.'],
};
const CLOSINGS: Readonly<Record<GuestLanguage, readonly string[]>> = {
  en: ['Kind regards,\nYour front office team', 'Warm regards,\nThe reception team'],
  de: ['Mit freundlichen Grüßen\nIhr Empfangsteam', 'Herzliche Grüße\nIhr Front-Office-Team'],
  fr: ['Cordialement,\nVotre équipe de la réception', 'Avec nos meilleures salutations,\nL’équipe de la réception'],
  it: ['Cordiali saluti,\nIl team della reception', 'Distinti saluti,\nLa reception'],
  es: ['Atentamente,\nSu equipo de recepción', 'Saludos cordiales,\nEl equipo de recepción'],
  nl: ['Met vriendelijke groet,\nUw receptieteam', 'Hartelijke groeten,\nHet team van de receptie'],
};
const VIP_LINE: Readonly<Record<GuestLanguage, string>> = {
  en: 'As one of our valued regular guests, you can count on us to make this as easy as possible for you.',
  de: 'Als geschätzter Stammgast können Sie sich darauf verlassen, dass wir alles möglich machen.',
  fr: 'En tant que client fidèle, vous pouvez compter sur nous pour vous faciliter les choses au maximum.',
  it: 'Come nostro ospite abituale, può contare su di noi per rendere tutto il più semplice possibile.',
  es: 'Como cliente habitual, puede contar con nosotros para hacerle todo lo más fácil posible.',
  nl: 'Als gewaardeerde vaste gast kunt u erop rekenen dat wij het u zo gemakkelijk mogelijk maken.',
};

/** Greetings with the guest's name, and without one. */
const GREETINGS: Readonly<Record<GuestLanguage, { named: (name: string) => string[]; anonymous: string }>> = {
  en: { named: (name) => [`Dear ${name},`, `Hello ${name},`], anonymous: 'Dear guest,' },
  de: { named: (name) => [`Guten Tag ${name},`, `Hallo ${name},`], anonymous: 'Guten Tag,' },
  fr: { named: (name) => [`Bonjour ${name},`], anonymous: 'Chère cliente, cher client,' },
  it: { named: (name) => [`Gentile ${name},`, `Buongiorno ${name},`], anonymous: 'Gentile ospite,' },
  es: { named: (name) => [`Estimado/a ${name}:`, `Hola ${name}:`], anonymous: 'Estimado/a cliente:' },
  nl: { named: (name) => [`Beste ${name},`, `Geachte ${name},`], anonymous: 'Beste gast,' },
};

/** The flawed drafts' invented upgrade offer. */
const UPSELL: Readonly<Record<GuestLanguage, (price: number) => string>> = {
  en: (price) => `We can also offer you a room upgrade for only ${price} EUR per night.`,
  de: (price) => `Gerne bieten wir Ihnen außerdem ein Upgrade für nur ${price} EUR pro Nacht an.`,
  fr: (price) => `Nous pouvons aussi vous proposer une chambre supérieure pour seulement ${price} EUR par nuit.`,
  it: (price) => `Possiamo anche offrirle una camera superiore per soli ${price} EUR a notte.`,
  es: (price) => `También podemos ofrecerle una habitación superior por solo ${price} EUR por noche.`,
  nl: (price) => `Wij kunnen u ook een upgrade aanbieden voor slechts ${price} EUR per nacht.`,
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
  const greeting = facts.name ? pick(rng, GREETINGS[language].named(facts.name)) : GREETINGS[language].anonymous;
  const sentences = [pick(rng, THANKS[language]), pick(rng, BODIES[topic][language](facts))];
  if (facts.vip) sentences.push(VIP_LINE[language]);
  if (flawed) sentences.push(UPSELL[language](inventedPrice(context)));
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

/** German letters continue lowercase after the comma of the salutation. */
function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** A price that appears nowhere in the mission, so the invention is always detectable. */
function inventedPrice(context: LlmMissionContext): number {
  const known = `${context.title} ${context.description} ${JSON.stringify(context.payload)}`;
  let price = 35;
  while (known.includes(String(price))) price += 5;
  return price;
}
