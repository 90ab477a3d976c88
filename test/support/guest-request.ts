/**
 * A guest's request as the Odoo fixtures (fixtures/odoo_missions_mock.json) carry one: a staff
 * summary as the description, the guest's own words (in lines) and language in the payload, and
 * the guest's name, which a reader key gets `[redacted]` as it does the words.
 */
export const GUEST_MESSAGE = 'Guten Morgen, wäre es möglich, am Sonntag später auszuchecken, etwa um 14 Uhr?\nUnser Zug fährt erst am Nachmittag.';

export const LATE_CHECK_OUT = {
  type: 'guest_support',
  title: 'Später Check-out, Zimmer 701',
  description: 'Frau Schmidt bittet um einen späten Check-out',
  priority: 'high',
  payload: { guest: { name: 'Anna Schmidt' }, language: 'de', roomNumber: 701, message: GUEST_MESSAGE },
} as const;
