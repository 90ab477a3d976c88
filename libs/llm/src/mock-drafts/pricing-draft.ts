import { PricingOutput } from '@app/mission';
import { LlmMissionContext } from '../llm-client';
import { Rng } from '../prng';
import { numberField, recordField, shortFeedback, textField } from './payload-fields';

const DEFAULT_RATE = 120;
/** Stays well inside the judge's default 50 % so a sound draft is never "absurd". */
const SELF_LIMIT_PERCENT = 40;
const DEFAULT_EVENT_UPLIFT = 0.18;

interface Driver {
  factor: number;
  note: string;
}

/**
 * Occupancy and events scale the current rate, a competitor rate pulls it towards the market, then
 * the draft limits the jump and clamps to the allowed corridor. Contradictory corridors
 * (minRate > maxRate) are left unclamped on purpose: no answer can be right, and the judge must
 * see that rather than a rate that silently breaks one of the two limits.
 */
export function draftPricing(context: LlmMissionContext, rng: Rng, flawed: boolean): PricingOutput {
  const p = context.payload;
  const given = numberField(p, 'currentRate');
  const current = given !== undefined && given > 0 ? given : DEFAULT_RATE;
  const currency = textField(p, 'currency')?.toUpperCase() ?? 'EUR';
  const min = numberField(p, 'minRate');
  const max = numberField(p, 'maxRate');
  const jitter = 1 + (rng() - 0.5) * 0.02;
  if (flawed) return overreaction(current, currency);

  const drivers = [occupancyDriver(numberField(p, 'occupancy')), eventDriver(p)].filter((d): d is Driver => d !== null);
  let rate = current * drivers.reduce((product, d) => product * d.factor, 1);
  const notes = drivers.map((d) => d.note);
  const competitor = numberField(p, 'competitorRate');
  if (competitor !== undefined && competitor > 0) {
    rate = rate * 0.6 + competitor * 0.4;
    notes.push(`the competitor rate of ${competitor} ${currency} pulls the rate towards the market`);
  }
  if (notes.length === 0) notes.push('no strong demand signal, so the rate stays close to the current level');
  rate *= jitter;

  const limit = Math.min(SELF_LIMIT_PERCENT, numberField(p, 'maxChangePercent') ?? SELF_LIMIT_PERCENT) / 100;
  rate = Math.min(current * (1 + limit), Math.max(current * (1 - limit), rate));
  const conflicting = min !== undefined && max !== undefined && min > max;
  if (!conflicting) rate = Math.min(max ?? Infinity, Math.max(min ?? 0, rate));
  const recommendedRate = Math.max(1, Math.round(rate));
  const changePercent = percentChange(current, recommendedRate);

  const sentences = [`${capitalize(notes.join('; '))}.`];
  sentences.push(
    `Recommend ${recommendedRate} ${currency} (${signed(changePercent)} % against ${current} ${currency})${corridor(min, max, currency, conflicting)}.`,
  );
  if (conflicting)
    sentences.push(
      `The floor of ${min} ${currency} is above the ceiling of ${max} ${currency}, so no rate can satisfy both; the channel settings need a revenue manager.`,
    );
  const feedback = shortFeedback(context.feedback);
  if (feedback) sentences.push(`Revised after review feedback: ${feedback}`);
  return { recommendedRate, currency, changePercent, reason: sentences.join(' ') };
}

function occupancyDriver(occupancy: number | undefined): Driver | null {
  if (occupancy === undefined) return null;
  const percent = `${Math.round(occupancy * 100)} %`;
  if (occupancy >= 0.9) return { factor: 1.15, note: `occupancy at ${percent} supports a clearly higher rate` };
  if (occupancy >= 0.8) return { factor: 1.08, note: `occupancy at ${percent} supports a higher rate` };
  if (occupancy < 0.4) return { factor: 0.88, note: `occupancy at only ${percent} calls for a lower rate to win bookings` };
  if (occupancy < 0.6) return { factor: 0.95, note: `occupancy at ${percent} suggests a slightly lower rate` };
  return { factor: 1, note: `occupancy at ${percent} is in the normal range` };
}

function eventDriver(payload: Record<string, unknown>): Driver | null {
  const event = payload.event;
  if (typeof event === 'string' && event.trim()) {
    return { factor: 1 + DEFAULT_EVENT_UPLIFT, note: `${event.trim()} drives extra demand` };
  }
  const details = recordField(payload, 'event');
  const name = textField(details, 'name');
  if (!name) return null;
  const uplift = numberField(details, 'upliftPercent');
  return { factor: 1 + (uplift ?? DEFAULT_EVENT_UPLIFT * 100) / 100, note: `${name} drives extra demand` };
}

/** The flawed draft: a panicky jump with a one-line reason, ignoring every limit. */
function overreaction(current: number, currency: string): PricingOutput {
  const recommendedRate = Math.round(current * 1.8);
  return { recommendedRate, currency, changePercent: percentChange(current, recommendedRate), reason: 'Demand is up.' };
}

function percentChange(from: number, to: number): number {
  return Math.round(((to - from) / from) * 1000) / 10;
}

function corridor(min: number | undefined, max: number | undefined, currency: string, conflicting: boolean): string {
  if (conflicting || (min === undefined && max === undefined)) return '';
  return `, inside the allowed range ${min ?? 0}–${max ?? '∞'} ${currency}`;
}

function signed(value: number): string {
  return value > 0 ? `+${value}` : String(value);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
