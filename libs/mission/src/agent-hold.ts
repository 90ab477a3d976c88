import { Mission } from './mission-state';
import { MissionStatus } from './mission-status';

/** Statuses in which the mission occupies a slot of its assigned agent. */
export const AGENT_HOLDING_STATUSES: readonly MissionStatus[] = ['assigned', 'running', 'evaluating'];

/**
 * The agent whose slot the mission occupies, if any. After a MissionFailed the slot is already
 * given back (lastError set while still assigned/running), so the mission no longer holds it.
 */
export function heldAgent(mission: Mission): string | null {
  if (!mission.assignedAgentId || !AGENT_HOLDING_STATUSES.includes(mission.status)) return null;
  if (mission.status !== 'evaluating' && mission.lastError !== null) return null;
  if (mission.status === 'evaluating' && mission.evaluation?.attempt === mission.attempts) return null;
  return mission.assignedAgentId;
}
