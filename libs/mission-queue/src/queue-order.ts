import { deadlineMs, isSafetyIssue, Mission } from '@app/mission';

/** What a mission's place in the ready queue depends on. */
export type QueuedMission = Pick<Mission, 'priorityScore' | 'deadline' | 'payload'>;

export interface QueueOrderOptions {
  /** Each priority point is this much head start (PRIORITY_HEADSTART_MS_PER_POINT). */
  headStartMsPerPoint: number;
  /** A mission counts as queued this long before its deadline, when that is earlier (DEADLINE_LEAD_MS). */
  deadlineLeadMs: number;
}

/** The queue order a deployment's settings give (the Environment's two variables). */
export function queueOrderOf(settings: { PRIORITY_HEADSTART_MS_PER_POINT: number; DEADLINE_LEAD_MS: number }): QueueOrderOptions {
  return { headStartMsPerPoint: settings.PRIORITY_HEADSTART_MS_PER_POINT, deadlineLeadMs: settings.DEADLINE_LEAD_MS };
}

/**
 * How far ahead of every other mission a safety issue is placed: about 317 years, more than any
 * head start or deadline lead, and small enough that keys stay exact integers in a double.
 */
export const SAFETY_TIER_MS = 10_000_000_000_000;

/**
 * A mission's key in the ready queue (lower is served first), in milliseconds:
 *
 *   key = min(enqueuedAt, max(deadline, enqueuedAt) − DEADLINE_LEAD_MS)
 *         − priorityScore × PRIORITY_HEADSTART_MS_PER_POINT
 *         − SAFETY_TIER_MS if the mission is a safety issue
 *
 * Keys are times, so a key fixed at enqueue still moves relative to the rest as time passes:
 * missions queued later get later keys, and a mission with a deadline counts as queued
 * DEADLINE_LEAD_MS before it once that is earlier than when it was queued - the nearer its deadline,
 * the more of the missions queued after it (and, within the lead, before it) it is ahead of. Nothing
 * is ever rescored: one ZADD per enqueue, O(log n).
 *
 * - Equal priority: the nearer deadline is served first once it is within DEADLINE_LEAD_MS of when
 *   the other mission was queued (earlier than that, the other had been waiting first).
 * - Bounded wait: a waiting non-safety mission is overtaken only by missions queued less than
 *   DEADLINE_LEAD_MS + (score gap) × PRIORITY_HEADSTART_MS_PER_POINT after it. A deadline already
 *   past when the mission is queued counts as due at that moment, so a flood of overdue work cannot
 *   push anything back further than that.
 * - Safety first: every safety issue is ahead of every other mission, whatever their age or
 *   deadline; the bound above holds for the rest while no safety issue is waiting.
 */
export function queueKey(mission: QueuedMission, enqueuedAt: number, options: QueueOrderOptions): number {
  const deadline = deadlineMs(mission.deadline);
  const dueFrom = deadline === undefined ? enqueuedAt : Math.max(deadline, enqueuedAt) - options.deadlineLeadMs;
  const key = Math.min(enqueuedAt, dueFrom) - Math.round(mission.priorityScore * options.headStartMsPerPoint);
  return isSafetyIssue(mission.payload) ? key - SAFETY_TIER_MS : key;
}
