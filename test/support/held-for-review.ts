import { MissionCreateDto } from '@app/mission';

/** A safety issue: the hotel policy (fixtures/review-policy.yaml) holds its result for a reviewer. */
export const socket = (title: string, priority: MissionCreateDto['priority'] = 'high'): MissionCreateDto => ({
  type: 'maintenance',
  title,
  description: 'The socket next to the bed sparks when a plug goes in.',
  priority,
  payload: { roomNumber: 207, equipment: 'socket outlet', safetyIssue: true },
});

/** A result that meets the maintenance rubric for a safety issue. */
export const agentOutput = {
  urgency: 'critical',
  steps: ['Switch off the circuit breaker of room 207', 'Replace the socket outlet and its cover plate', 'Test the circuit with a socket tester'],
  safetyNotes: ['Lock out the breaker before opening the socket'],
  parts: ['socket outlet', 'cover plate'],
};
