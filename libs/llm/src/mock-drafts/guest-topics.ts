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
    ],
  ],
  ['early_checkin', ['early check-in', 'early checkin', 'early arrival', 'früher einchecken', 'früh einchecken', 'frühen check-in', 'früheren check-in']],
  ['noise', ['noise', 'noisy', 'loud', 'lärm', 'laut']],
  ['housekeeping', ['towel', 'handtuch', 'handtücher', 'dirty', 'schmutzig', 'housekeeping', 'not cleaned', 'nicht gereinigt', 'bettwäsche']],
  ['breakfast', ['breakfast', 'frühstück']],
  ['parking', ['parking', 'parkplatz', 'tiefgarage']],
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
  const lower = text.toLowerCase();
  return TOPIC_KEYWORDS.find(([, words]) => words.some((word) => lower.includes(word)))?.[0] ?? 'general';
}
