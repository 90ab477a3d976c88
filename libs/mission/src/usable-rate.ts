import { Mission } from './mission-state';

/**
 * Why a pricing output's rate can never be used: not a positive number, or not in the mission's
 * currency; null when it can. The judge's critical valid_rate criterion, and what a reviewer's
 * edit must keep (the approved output is the result that webhooks and the Odoo write-back carry).
 * A rate beyond minRate/maxRate is usable: a reviewer may set one, holding such rates for a human
 * is what the review policy's atRateBound is for.
 */
export function unusableRate(mission: Mission, rate: unknown, currency: unknown): string | null {
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) return 'recommendedRate must be a finite positive number';
  const code = typeof currency === 'string' ? currency.trim() : '';
  if (!/^[A-Z]{3}$/.test(code)) return `currency "${code}" is not an ISO 4217 code such as EUR`;
  const expected = typeof mission.payload.currency === 'string' ? mission.payload.currency.trim().toUpperCase() : '';
  if (expected && code !== expected) return `currency is ${code}, but this rate is priced in ${expected}`;
  return null;
}
