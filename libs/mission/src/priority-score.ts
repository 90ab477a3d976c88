import { MissionType, PriorityLevel } from './mission-type';

/**
 * Priority score, 0..100 (higher is served first):
 *
 *   score = clamp(0, 100,
 *       LEVEL[priority]                                   low 10 · normal 30 · high 55 · critical 80
 *     + TYPE[type]                                        maintenance 6 · guest_support 4 · pricing 0
 *     + 8  if payload.vip (or payload.guest.vip) is true  VIP guest
 *     + min(10, payload.revenueAtStake / 1000)            revenue at stake in EUR
 *     + 15 if payload.safetyIssue is true                 safety issue
 *   ), rounded to two decimals.
 *
 * Maintenance weighs more than guest support because a broken room blocks revenue and can hurt
 * someone; pricing work is rarely urgent unless revenue says so. A deadline is not part of the
 * score: time is the queue's to weigh, as the deadline comes nearer (queueKey in
 * libs/mission-queue/src/queue-order.ts), and safety issues are a tier of their own there.
 */
export const LEVEL_POINTS: Readonly<Record<PriorityLevel, number>> = { low: 10, normal: 30, high: 55, critical: 80 };
export const TYPE_POINTS: Readonly<Record<MissionType, number>> = { maintenance: 6, guest_support: 4, pricing: 0 };
export const VIP_POINTS = 8;
export const REVENUE_MAX_POINTS = 10;
export const REVENUE_EUR_PER_POINT = 1000;
export const SAFETY_POINTS = 15;

export interface ScoringInput {
  type: MissionType;
  priority: PriorityLevel;
  payload: Record<string, unknown>;
}

export function priorityScore(input: ScoringInput): number {
  const score =
    LEVEL_POINTS[input.priority] +
    TYPE_POINTS[input.type] +
    (isVip(input.payload) ? VIP_POINTS : 0) +
    revenuePoints(input.payload) +
    (isSafetyIssue(input.payload) ? SAFETY_POINTS : 0);
  return Math.round(clamp(score, 0, 100) * 100) / 100;
}

/**
 * A safety issue (gas smell, a fire door that does not close, an elevator stuck with people in
 * it): the submitter sets `payload.safetyIssue: true`. Such a mission is served before every other
 * kind, whatever their age (the queue's safety tier), and scores SAFETY_POINTS more among its peers.
 */
export function isSafetyIssue(payload: Record<string, unknown>): boolean {
  return payload.safetyIssue === true;
}

function isVip(payload: Record<string, unknown>): boolean {
  if (payload.vip === true) return true;
  const guest = payload.guest;
  return typeof guest === 'object' && guest !== null && (guest as Record<string, unknown>).vip === true;
}

function revenuePoints(payload: Record<string, unknown>): number {
  const revenue = payload.revenueAtStake;
  if (typeof revenue !== 'number' || !Number.isFinite(revenue) || revenue <= 0) return 0;
  return Math.min(REVENUE_MAX_POINTS, revenue / REVENUE_EUR_PER_POINT);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
