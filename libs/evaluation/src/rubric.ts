import { MissionType } from '@app/mission';

export interface RubricCriterion {
  name: string;
  weight: number;
  /** A critical criterion that is not fully met fails the verdict whatever the score. */
  critical?: boolean;
  description: string;
}

export interface Rubric {
  missionType: MissionType;
  /** Stored with every verdict, so a score can be traced to the rules that produced it. */
  version: string;
  passThreshold: number;
  criteria: RubricCriterion[];
}

export const GUEST_SUPPORT_RUBRIC: Rubric = {
  missionType: 'guest_support',
  version: 'guest_support@1',
  passThreshold: 0.75,
  criteria: [
    { name: 'addresses_request', weight: 0.3, description: "the reply speaks to the guest's actual request" },
    {
      name: 'right_language',
      weight: 0.25,
      critical: true,
      description: "language field and reply match the guest's language; 0 for a guest whose language is none of de, en, fr, it, es, nl",
    },
    { name: 'polite', weight: 0.15, description: 'greeting, thanks or apology, and a closing' },
    { name: 'no_invented_facts', weight: 0.2, critical: true, description: 'no price, time or room number that the mission does not contain' },
    { name: 'actions_present', weight: 0.1, description: 'at least one follow-up action for the staff' },
  ],
};

export const PRICING_RUBRIC: Rubric = {
  missionType: 'pricing',
  version: 'pricing@1',
  passThreshold: 0.75,
  criteria: [
    { name: 'valid_rate', weight: 0.3, critical: true, description: 'a finite positive rate in the right ISO currency' },
    { name: 'within_bounds', weight: 0.3, critical: true, description: 'between payload.minRate and payload.maxRate' },
    { name: 'reason_quality', weight: 0.2, description: 'a reason of reasonable length' },
    { name: 'change_reasonable', weight: 0.2, description: 'change within ±50 % (or payload.maxChangePercent) and consistent with the rate' },
  ],
};

export const MAINTENANCE_RUBRIC: Rubric = {
  missionType: 'maintenance',
  version: 'maintenance@1',
  passThreshold: 0.75,
  criteria: [
    { name: 'urgency_consistent', weight: 0.3, critical: true, description: 'urgency given, and high or critical for safety issues' },
    { name: 'safety_notes', weight: 0.25, critical: true, description: 'safety notes whenever the job is safety-relevant' },
    { name: 'concrete_steps', weight: 0.25, description: 'at least two concrete work steps' },
    { name: 'parts_listed', weight: 0.2, description: 'at least one part or material' },
  ],
};

export const RUBRICS: Readonly<Record<MissionType, Rubric>> = {
  guest_support: GUEST_SUPPORT_RUBRIC,
  pricing: PRICING_RUBRIC,
  maintenance: MAINTENANCE_RUBRIC,
};
