/**
 * `created` exists only between the two events of a creation (MissionCreated, MissionQueued),
 * which are always appended together, so no reader ever sees it.
 */
export const MISSION_STATUSES = [
  'created',
  'scheduled',
  'queued',
  'assigned',
  'running',
  'evaluating',
  'awaiting_review',
  'succeeded',
  'dead_lettered',
  'cancelled',
] as const;
export type MissionStatus = (typeof MISSION_STATUSES)[number];

export const TERMINAL_STATUSES: readonly MissionStatus[] = ['succeeded', 'cancelled'];
