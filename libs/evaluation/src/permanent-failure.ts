import { Mission, MissionType } from '@app/mission';
import { unanswerableGuestLanguage } from './guest-support-checks';
import { contradictoryRateLimits } from './pricing-checks';

/** Per type, what makes a mission impossible whatever an agent answers; null when nothing does. */
const IMPOSSIBLE: Readonly<Record<MissionType, (mission: Mission) => string | null>> = {
  pricing: contradictoryRateLimits,
  guest_support: unanswerableGuestLanguage,
  maintenance: () => null,
};

/**
 * Why a failed verdict will fail on every attempt - the mission's own constraints contradict each
 * other, or the guest's language is none an agent may answer in - so it goes to the dead-letter queue at once instead of using every attempt; null when
 * another attempt may pass.
 */
export function permanentFailure(mission: Mission): string | null {
  return IMPOSSIBLE[mission.type](mission);
}
