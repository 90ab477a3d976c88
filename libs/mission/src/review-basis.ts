import type { MissionType } from './mission-type';

/** A top-level payload field a reviewer judges a result by, and what the review card calls it. */
export interface ReviewBasisField {
  readonly key: string;
  readonly label: string;
}

/**
 * Per mission type, the payload fields a result is chiefly judged by: those the rubric's critical
 * checks (libs/evaluation) and the review policy's rules (review-policy.ts) turn on. The payload
 * is free-form, so nothing else declares them; the console's review card shows each (`—` when the
 * payload has none) above the result, and the whole payload below them for the rest.
 */
export const REVIEW_BASIS: Readonly<Record<MissionType, readonly ReviewBasisField[]>> = {
  // What the guest asked, in their own words (addresses_request), and in which language the reply must be (right_language).
  guest_support: [
    { key: 'message', label: "Guest's message" },
    { key: 'language', label: "Guest's language" },
  ],
  // What the rules pricing-large-change and pricing-at-rate-bound, and within_bounds, valid_rate and change_reasonable, compare with.
  pricing: [
    { key: 'currentRate', label: 'Current rate (currentRate)' },
    { key: 'minRate', label: 'Floor (minRate)' },
    { key: 'maxRate', label: 'Ceiling (maxRate)' },
    { key: 'currency', label: 'Currency' },
    { key: 'maxChangePercent', label: 'Change limit in % (maxChangePercent; 50 when none)' },
  ],
  // The rule maintenance-safety, and urgency_consistent and safety_notes.
  maintenance: [
    { key: 'safetyIssue', label: 'Safety issue (safetyIssue)' },
    { key: 'equipment', label: 'Equipment' },
  ],
};
