import * as fc from 'fast-check';
import { MissionStatus, NewMissionEvent, statusAfter } from '@app/mission';
import { aCreateInput, aResult, anEvaluation, MissionHistory } from '@app/testing';
import { matchesFilter } from './stream-filter';

/** Any event with plausible data; whether evolve accepts it depends on where the mission is. */
const anyEvent: fc.Arbitrary<NewMissionEvent> = fc.oneof(
  fc.constant<NewMissionEvent>({ type: 'MissionQueued', data: { priorityScore: 40, reason: 'retry' } }),
  fc.integer({ min: 1, max: 3 }).map((attempt): NewMissionEvent => ({ type: 'MissionAssigned', data: { agentId: 'agent-lena', attempt } })),
  fc.integer({ min: 1, max: 3 }).map((attempt): NewMissionEvent => ({ type: 'MissionStarted', data: { agentId: 'agent-lena', attempt } })),
  fc.integer({ min: 1, max: 3 }).map((attempt): NewMissionEvent => ({ type: 'MissionCompleted', data: { agentId: 'agent-lena', attempt, result: aResult() } })),
  fc.integer({ min: 1, max: 3 }).map((attempt): NewMissionEvent => ({ type: 'MissionFailed', data: { agentId: 'agent-lena', attempt, error: 'timeout' } })),
  fc.boolean().map((passed): NewMissionEvent => ({ type: 'MissionEvaluated', data: anEvaluation(1, passed) })),
  fc.constant<NewMissionEvent>({ type: 'MissionDeadLettered', data: { reason: 'max attempts', attempts: 3, lastError: 'timeout' } }),
  fc.constant<NewMissionEvent>({ type: 'MissionCancelled', data: { reason: 'guest left' } }),
  fc.constant<NewMissionEvent>({ type: 'MissionRequeued', data: { reason: 'fixed', priorityScore: 40 } }),
  fc.constant<NewMissionEvent>({ type: 'MissionEvaluated', data: { ...anEvaluation(1, true), heldForReview: true } }),
  fc.integer({ min: 1, max: 3 }).map((attempt): NewMissionEvent => ({ type: 'MissionReviewRequested', data: { rule: 'guest replies', attempt } })),
  fc.integer({ min: 1, max: 3 }).map((attempt): NewMissionEvent => ({ type: 'MissionApproved', data: { attempt } })),
  fc.integer({ min: 1, max: 3 }).map((attempt): NewMissionEvent => ({ type: 'MissionRejected', data: { attempt, feedback: 'shorter', round: 1 } })),
  fc.constant<NewMissionEvent>({ type: 'MissionScheduled', data: { notBefore: '2030-01-01T00:00:00.000Z', reason: 'retry', priorityScore: 40 } }),
);

describe('statusAfter (the live stream status filter)', () => {
  it('given any history evolve accepts, then each event puts the mission in statusAfter(event), or leaves its status when that is undefined', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 40 }), (events) => {
        const history = new MissionHistory();
        history.append([
          { type: 'MissionCreated', data: { ...aCreateInput(), requiredSkills: ['guest_communication'] } },
          { type: 'MissionQueued', data: { priorityScore: 40, reason: 'created' } },
        ]);
        expect(history.events.map(statusAfter)).toEqual(['created', 'queued']);
        for (const event of events) {
          const before = history.mission.status;
          try {
            history.append([event]);
          } catch {
            continue; // Not a legal next event here: evolve refused it, and the stream never sees it.
          }
          const appended = history.events[history.events.length - 1];
          expect({ type: appended.type, status: history.mission.status }).toEqual({ type: appended.type, status: statusAfter(appended) ?? before });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('given filters, then an event passes only when it matches every one given', () => {
    const history = new MissionHistory();
    history.append([
      { type: 'MissionCreated', data: { ...aCreateInput(), requiredSkills: ['guest_communication'] } },
      { type: 'MissionQueued', data: { priorityScore: 40, reason: 'created' } },
    ]);
    const [created, queued] = history.events;
    const statuses = (...names: MissionStatus[]) => new Set(names);
    expect(matchesFilter(queued, {})).toBe(true);
    expect(matchesFilter(queued, { types: new Set(['MissionQueued']), statuses: statuses('queued'), missionId: queued.missionId })).toBe(true);
    expect(matchesFilter(created, { types: new Set(['MissionQueued']) })).toBe(false);
    expect(matchesFilter(queued, { statuses: statuses('succeeded') })).toBe(false);
    expect(matchesFilter(queued, { missionId: 'another' })).toBe(false);
  });
});
