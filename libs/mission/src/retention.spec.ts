import { DAY_MS, RetainedMission, retentionVerdict } from './retention';

const DAYS = { guest_support: 30, pricing: 365, maintenance: 90 } as const;
const NOW = Date.parse('2027-01-01T00:00:00.000Z');
const finished = (missionId: string, type: RetainedMission['type'], daysAgo: number): RetainedMission => ({
  missionId,
  type,
  status: 'succeeded',
  finishedAt: NOW - daysAgo * DAY_MS,
});

describe('retentionVerdict', () => {
  it('given every mission finished and past its own type, then the subject is erased under the longest of their days', () => {
    const verdict = retentionVerdict([finished('a', 'guest_support', 31), { ...finished('b', 'maintenance', 90), status: 'cancelled' }], DAYS, NOW);
    expect(verdict).toEqual({ erase: true, days: 90, reason: 'retention policy 90 days' });
  });

  it('given one mission still young for its type, then the subject is kept, naming it and until when', () => {
    const verdict = retentionVerdict([finished('old', 'guest_support', 400), finished('young', 'pricing', 364)], DAYS, NOW);
    expect(verdict).toEqual({ erase: false, reason: 'mission young (pricing, 365 days) is kept until 2027-01-02T00:00:00.000Z' });
  });

  it('given exactly its days since it finished, then it is past them', () => {
    expect(retentionVerdict([finished('a', 'guest_support', 30)], DAYS, NOW)).toMatchObject({ erase: true });
  });

  it.each(['queued', 'running', 'awaiting_review', 'scheduled'] as const)('given one mission %s, then the subject is kept', (status) => {
    const verdict = retentionVerdict([finished('old', 'guest_support', 400), { missionId: 'open', type: 'guest_support', status }], DAYS, NOW);
    expect(verdict).toEqual({ erase: false, reason: `mission open is ${status}` });
  });

  // A dead letter keeps its subjects until an operator acts, so it is named before a mission that ends on its own.
  it('given one mission dead-lettered, then the subject is kept, naming it before any other, since when, and what the operator can do', () => {
    const deadLetter: RetainedMission = { missionId: 'dl', type: 'pricing', status: 'dead_lettered', deadLetteredAt: NOW - 400 * DAY_MS };
    const running: RetainedMission = { missionId: 'run', type: 'guest_support', status: 'running' };
    for (const missions of [
      [finished('old', 'guest_support', 400), deadLetter],
      [running, finished('young', 'pricing', 1), deadLetter],
    ]) {
      expect(retentionVerdict(missions, DAYS, NOW)).toEqual({
        erase: false,
        reason: 'mission dl is dead-lettered since 2025-11-27T00:00:00.000Z: requeue or cancel it',
      });
    }
  });

  it('given no mission, then nothing is erased', () => {
    expect(retentionVerdict([], DAYS, NOW)).toEqual({ erase: false, reason: 'no mission holds data about it' });
  });

  it('given 0 days, then a finished mission is past them at once', () => {
    expect(retentionVerdict([finished('a', 'pricing', 0)], { ...DAYS, pricing: 0 }, NOW)).toEqual({ erase: true, days: 0, reason: 'retention policy 0 days' });
  });
});
