import { eventProblem } from './event-problem';
import { upcast } from './upcast';

const stored = (overrides: Record<string, unknown>, data: object): Record<string, unknown> => ({
  eventId: 'e-1',
  missionId: 'm-1',
  version: 3,
  at: '2026-12-01T10:00:00.000Z',
  actor: 'by-hand',
  correlationId: 'c',
  causationId: 'c',
  schemaVersion: 8,
  data,
  ...overrides,
});

describe('eventProblem', () => {
  it('given an event of a type no build writes, then it names the type, and upcast refuses it with that reason', () => {
    const teleported = stored({ type: 'MissionTeleported' }, { to: 'Mars' });
    expect(eventProblem(teleported)).toBe('its type "MissionTeleported" is no mission event type');
    expect(() => upcast(teleported)).toThrow('its type "MissionTeleported" is no mission event type');
    expect(eventProblem(stored({ type: undefined }, {}))).toBe('its type (none) is no mission event type');
  });

  it('given an event without a field its type always has, or with it of another kind, then it names the field and the kind', () => {
    expect(eventProblem(stored({ type: 'MissionFailed' }, { agentId: 'a', error: 'boom' }))).toBe('a MissionFailed without data.attempt (a number)');
    expect(eventProblem(stored({ type: 'MissionFailed' }, { agentId: 'a', attempt: '1', error: 'boom' }))).toBe(
      'a MissionFailed without data.attempt (a number)',
    );
    expect(eventProblem(stored({ type: 'MissionCancelled', data: 'x' }, {}))).toBe('a MissionCancelled without data (an object)');
    expect(eventProblem(stored({ type: 'MissionCancelled', version: 0 }, { reason: 'r' }))).toBe(
      'a MissionCancelled without a version (a whole number from 1)',
    );
    expect(eventProblem(stored({ type: 'MissionCancelled' }, { reason: 'r' }))).toBeNull();
  });
});
