import { MissionStatus } from './mission-status';

/** Every legal status change. Anything not listed here is an IllegalTransitionError. */
const NEXT: Readonly<Record<MissionStatus, readonly MissionStatus[]>> = {
  created: ['queued', 'scheduled'],
  // Waiting for its time: a later start (notBefore), or a retry's backoff.
  scheduled: ['queued', 'cancelled'],
  queued: ['assigned', 'cancelled', 'dead_lettered'],
  assigned: ['running', 'queued', 'scheduled', 'cancelled', 'dead_lettered'],
  running: ['evaluating', 'queued', 'scheduled', 'cancelled', 'dead_lettered'],
  evaluating: ['succeeded', 'awaiting_review', 'queued', 'scheduled', 'cancelled', 'dead_lettered'],
  // A reviewer approves (succeeded) or rejects: another attempt (queued), or the last review round (dead_lettered).
  awaiting_review: ['succeeded', 'queued', 'cancelled', 'dead_lettered'],
  dead_lettered: ['queued', 'cancelled'],
  succeeded: [],
  cancelled: [],
};

export class IllegalTransitionError extends Error {
  readonly code = 'ILLEGAL_TRANSITION';
  constructor(
    readonly from: MissionStatus | undefined,
    readonly to: MissionStatus,
  ) {
    super(`illegal mission transition ${from ?? '(none)'} -> ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function canTransition(from: MissionStatus, to: MissionStatus): boolean {
  return NEXT[from].includes(to);
}

export function assertTransition(from: MissionStatus, to: MissionStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

/** For an event that may only follow some statuses, beyond what the transition table allows (a retry only from assigned or running). */
export function requireStatus(from: MissionStatus, allowed: readonly MissionStatus[], attempted: MissionStatus): void {
  if (!allowed.includes(from)) throw new IllegalTransitionError(from, attempted);
}

export function isTerminal(status: MissionStatus): boolean {
  return NEXT[status].length === 0;
}

/**
 * Whether going from `previous` (undefined: no mission yet) to `next` finishes the mission: the
 * moment retention counts its days from. The live `retain` effect and an import's retention index
 * both take it from here, so an import keeps the finish time the deployment it came from had.
 */
export function finishes(previous: MissionStatus | undefined, next: MissionStatus): boolean {
  return isTerminal(next) && (previous === undefined || !isTerminal(previous));
}
