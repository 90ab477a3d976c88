import { comparableText } from '../language';

export type GuestTopic = 'late_checkout' | 'early_checkin' | 'noise' | 'housekeeping' | 'breakfast' | 'parking' | 'booking_change' | 'general';

/** Checked in this order: the first match wins, so specific requests beat the generic word "booking". */
const TOPIC_KEYWORDS: ReadonlyArray<readonly [GuestTopic, readonly string[]]> = [
  [
    'late_checkout',
    [
      'late check-out',
      'late checkout',
      'later check-out',
      'später auschecken',
      'späteren check-out',
      'späten check-out',
      'spät auschecken',
      'späteres auschecken',
      'départ tardif',
      'check-out tardif',
      'quitter la chambre plus tard',
      'check-out posticipato',
      'lasciare la camera più tardi',
      'salida más tarde',
      'salida tardía',
      'check-out más tarde',
      'later uitchecken',
      'later uit te checken',
      'late check-out',
    ],
  ],
  [
    'early_checkin',
    [
      'early check-in',
      'early checkin',
      'early arrival',
      'früher einchecken',
      'früh einchecken',
      'frühen check-in',
      'früheren check-in',
      'check-in anticipé',
      'arrivée anticipée',
      'check-in anticipato',
      'check-in temprano',
      'llegada temprana',
      'vroeg inchecken',
      'vroege check-in',
    ],
  ],
  ['noise', ['noise', 'noisy', 'loud', 'lärm', 'laut', 'bruit', 'bruyant', 'rumore', 'rumoros', 'ruido', 'ruidos', 'lawaai', 'herrie']],
  [
    'housekeeping',
    [
      'towel',
      'handtuch',
      'handtücher',
      'dirty',
      'schmutzig',
      'housekeeping',
      'not cleaned',
      'nicht gereinigt',
      'bettwäsche',
      'serviettes',
      'asciugamani',
      'toallas',
      'handdoeken',
    ],
  ],
  ['breakfast', ['breakfast', 'frühstück', 'petit-déjeuner', 'colazione', 'desayuno', 'ontbijt']],
  ['parking', ['parking', 'parkplatz', 'tiefgarage', 'parcheggio', 'aparcamiento', 'parkeerplaats']],
  [
    'booking_change',
    [
      'change my booking',
      'change the booking',
      'booking change',
      'change my reservation',
      'umbuchen',
      'umbuchung',
      'buchung ändern',
      'reservierung ändern',
      'extend my stay',
      'verlängern',
      'modifier ma réservation',
      'modificare la prenotazione',
      'cambiar mi reserva',
      'boeking wijzigen',
      'boeking omzetten',
    ],
  ],
];

/** Odoo helpdesk tags as the hotel uses them. */
const REQUEST_TYPES: Readonly<Record<string, GuestTopic>> = {
  late_checkout: 'late_checkout',
  early_checkin: 'early_checkin',
  noise_complaint: 'noise',
  housekeeping: 'housekeeping',
  breakfast: 'breakfast',
  parking: 'parking',
  booking_change: 'booking_change',
};

export function detectGuestTopic(payload: Record<string, unknown>, text: string): GuestTopic {
  const tag = payload.requestType;
  if (typeof tag === 'string' && Object.hasOwn(REQUEST_TYPES, tag)) return REQUEST_TYPES[tag];
  const comparable = comparableText(text);
  return TOPIC_KEYWORDS.find(([, words]) => words.some((word) => comparable.includes(word)))?.[0] ?? 'general';
}
