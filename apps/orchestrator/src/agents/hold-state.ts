import { SlotHold } from '@app/agents';
import { MissionStore } from '@app/event-store';
import { heldAgent } from '@app/mission';

/**
 * Where a hold stands, by the mission's log:
 * - 'live': its attempt is running on its agent;
 * - 'ended': the attempt was assigned to that agent and is over (its release is on its way);
 * - 'orphan': the assignment it was claimed for was never appended.
 */
export type HoldState = 'live' | 'ended' | 'orphan';

export async function holdState(store: MissionStore, hold: SlotHold): Promise<HoldState> {
  const mission = await store.load(hold.missionId);
  if (!mission || mission.attempts < hold.attempt) return 'orphan';
  if (mission.attempts === hold.attempt && heldAgent(mission) === hold.agentId) return 'live';
  const history = await store.history(hold.missionId);
  const assigned = history.some((event) => event.type === 'MissionAssigned' && event.data.agentId === hold.agentId && event.data.attempt === hold.attempt);
  return assigned ? 'ended' : 'orphan';
}
