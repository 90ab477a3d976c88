import { attemptsSinceRequeue, CURRENT_SCHEMA_VERSION, evolveInPlace, fold, Mission, MissionEvent, NewMissionEvent } from '@app/mission';
import { toEnvelopes } from '@app/testing';
import { upcast } from './upcast';

/** A history as schema version 1 stored it: the requeue reset attempts, so attempt numbers started again at 1. */
const V1_HISTORY: NewMissionEvent[] = [
  {
    type: 'MissionCreated',
    data: { type: 'pricing', title: 'Fair weekend rate', description: '', priority: 'high', requiredSkills: ['revenue_management'], payload: {} },
  },
  { type: 'MissionQueued', data: { priorityScore: 55, reason: 'created' } },
  { type: 'MissionAssigned', data: { agentId: 'agent-rafael', attempt: 1 } },
  { type: 'MissionStarted', data: { agentId: 'agent-rafael', attempt: 1 } },
  { type: 'MissionFailed', data: { agentId: 'agent-rafael', attempt: 1, error: 'boom' } },
  { type: 'MissionDeadLettered', data: { reason: 'failed 1 of 1 attempts', attempts: 1, lastError: 'boom' } },
  { type: 'MissionRequeued', data: { reason: 'operator', priorityScore: 55 } },
  { type: 'MissionAssigned', data: { agentId: 'agent-sophie', attempt: 1 } },
];

/** The events as read back from a v1 log: stored without the version-2 fields, then upcast. */
function readV1(): MissionEvent[] {
  return toEnvelopes(V1_HISTORY).map((event) => upcast({ ...event, schemaVersion: 1 } as unknown as Record<string, unknown>));
}

describe('upcast', () => {
  test('given a v1 requeue, when it is read, then it says that it reset the attempts, and the fold counts as v1 did', () => {
    const events = readV1();
    expect(events.every((event) => event.schemaVersion === CURRENT_SCHEMA_VERSION)).toBe(true);
    expect(events[6].data).toEqual({ reason: 'operator', priorityScore: 55, attemptsReset: true });

    const mission = fold(events) as Mission;
    expect(mission).toMatchObject({ status: 'assigned', attempts: 1 });
    expect(mission.attemptsAtRequeue).toBeUndefined();
    expect(attemptsSinceRequeue(mission)).toBe(1);
  });

  test('given a v1 log, when it is folded in place as rebuild does, then it ends where evolve ends', () => {
    const events = readV1();
    let state: Mission | null = null;
    for (const event of events) state = evolveInPlace(state, event);
    expect(state).toEqual(fold(events));
  });

  test('given a current requeue, when it is read, then it keeps counting attempts', () => {
    const current = toEnvelopes([...V1_HISTORY.slice(0, 7), { type: 'MissionAssigned', data: { agentId: 'agent-sophie', attempt: 2 } }]);
    const events = current.map((event) => upcast(event as unknown as Record<string, unknown>));
    expect(events[6].data).toEqual({ reason: 'operator', priorityScore: 55 });
    expect(fold(events)).toMatchObject({ attempts: 2, attemptsAtRequeue: 1 });
  });
});
