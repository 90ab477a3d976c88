import { isIsoInstant, isoInstantMessage } from '@app/mission';

/**
 * ODOO_SINCE as the instant (ms) a rule with no cursor yet begins reading at, or null when it is
 * empty (from the start of the connector that first polls the rule). Its UTC offset is required: Odoo keeps
 * write_date in UTC, and a time without one would be read in the process's own time zone.
 */
export function odooSinceOf(text: string): number | null {
  if (text.trim() === '') return null;
  if (!isIsoInstant(text.trim())) throw new Error(isoInstantMessage('ODOO_SINCE'));
  return Date.parse(text.trim());
}
