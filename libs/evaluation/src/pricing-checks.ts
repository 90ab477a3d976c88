import { Mission, unusableRate } from '@app/mission';
import { CheckResult, CriterionChecks, met, missed, numberOf, partly, textOf } from './check-result';

const DEFAULT_MAX_CHANGE_PERCENT = 50;
const MIN_REASON_CHARS = 40;
const MIN_REASON_WORDS = 6;
const MAX_REASON_CHARS = 1200;
/** changePercent is usually rounded to one decimal; allow for that. */
const CHANGE_TOLERANCE_POINTS = 1;

export function checkPricing(mission: Mission, output: Record<string, unknown>): CriterionChecks {
  const rate = numberOf(output.recommendedRate);
  return {
    valid_rate: validRate(mission, rate, textOf(output.currency)),
    within_bounds: withinBounds(mission, rate),
    reason_quality: reasonQuality(textOf(output.reason)),
    change_reasonable: changeReasonable(mission, rate, numberOf(output.changePercent)),
  };
}

function validRate(mission: Mission, rate: number | undefined, currency: string): CheckResult {
  const unusable = unusableRate(mission, rate, currency);
  return unusable ? missed(unusable) : met();
}

/** Why no rate can ever satisfy the mission's limits, or null when some can. */
export function contradictoryRateLimits(mission: Mission): string | null {
  const min = numberOf(mission.payload.minRate);
  const max = numberOf(mission.payload.maxRate);
  if (min === undefined || max === undefined || min <= max) return null;
  return `minRate ${min} is above maxRate ${max}, so no rate can satisfy both; the conflicting rate limits must be fixed first`;
}

function withinBounds(mission: Mission, rate: number | undefined): CheckResult {
  const min = numberOf(mission.payload.minRate);
  const max = numberOf(mission.payload.maxRate);
  const contradiction = contradictoryRateLimits(mission);
  if (contradiction) return missed(contradiction);
  if (rate === undefined) return missed('there is no valid rate to check against the limits');
  if (min !== undefined && rate < min) return missed(`${rate} is below the floor minRate ${min}`);
  if (max !== undefined && rate > max) return missed(`${rate} is above the ceiling maxRate ${max}`);
  return met();
}

function reasonQuality(reason: string): CheckResult {
  if (!reason) return missed('give a reason naming the demand drivers and the limits respected');
  if (reason.length > MAX_REASON_CHARS) return partly(0.5, `the reason has ${reason.length} characters; keep it under ${MAX_REASON_CHARS}`);
  if (reason.length < MIN_REASON_CHARS || reason.split(/\s+/).length < MIN_REASON_WORDS) {
    return partly(0.5, `the reason "${reason}" is too short; explain occupancy, events, competitors and limits`);
  }
  return met();
}

function changeReasonable(mission: Mission, rate: number | undefined, changePercent: number | undefined): CheckResult {
  if (changePercent === undefined) return missed('changePercent is missing');
  const limit = numberOf(mission.payload.maxChangePercent) ?? DEFAULT_MAX_CHANGE_PERCENT;
  const current = numberOf(mission.payload.currentRate);
  const actual = rate !== undefined && current !== undefined && current > 0 ? ((rate - current) / current) * 100 : undefined;
  const biggest = Math.max(Math.abs(changePercent), Math.abs(actual ?? 0));
  if (biggest > limit) return missed(`a change of ${biggest.toFixed(1)} % exceeds the limit of ±${limit} %`);
  if (actual !== undefined && Math.abs(actual - changePercent) > CHANGE_TOLERANCE_POINTS) {
    return partly(0.5, `changePercent ${changePercent} does not match ${rate} against the current ${current} (${actual.toFixed(1)} %)`);
  }
  return met();
}
