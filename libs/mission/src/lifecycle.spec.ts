import { assertTransition, canTransition, IllegalTransitionError, isTerminal } from './lifecycle';
import { MISSION_STATUSES, MissionStatus, TERMINAL_STATUSES } from './mission-status';

/**
 * The expected state machine, written out by hand (not read from lifecycle.ts). Every pair not
 * listed here must be illegal.
 */
const EXPECTED_LEGAL: Readonly<Record<MissionStatus, readonly MissionStatus[]>> = {
  created: ['queued', 'scheduled'],
  scheduled: ['queued', 'cancelled'],
  queued: ['assigned', 'cancelled', 'dead_lettered'],
  assigned: ['running', 'queued', 'scheduled', 'cancelled', 'dead_lettered'],
  running: ['evaluating', 'queued', 'scheduled', 'cancelled', 'dead_lettered'],
  evaluating: ['succeeded', 'awaiting_review', 'queued', 'scheduled', 'cancelled', 'dead_lettered'],
  awaiting_review: ['succeeded', 'queued', 'cancelled', 'dead_lettered'],
  succeeded: [],
  dead_lettered: ['queued', 'cancelled'],
  cancelled: [],
};

interface TransitionCase {
  from: MissionStatus;
  to: MissionStatus;
  legal: boolean;
  verdict: 'legal' | 'illegal';
}

const ALL_PAIRS: TransitionCase[] = MISSION_STATUSES.flatMap((from) =>
  MISSION_STATUSES.map((to): TransitionCase => {
    const legal = EXPECTED_LEGAL[from].includes(to);
    return { from, to, legal, verdict: legal ? 'legal' : 'illegal' };
  }),
);

function thrownBy(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('mission lifecycle state machine', () => {
  test('given 10 statuses, when every pair is listed, then the table has 100 cases of which 29 are legal', () => {
    expect(MISSION_STATUSES).toHaveLength(10);
    expect(ALL_PAIRS).toHaveLength(100);
    expect(ALL_PAIRS.filter((c) => c.legal)).toHaveLength(29);
  });

  describe('canTransition', () => {
    test.each(ALL_PAIRS)('given a $from mission, when it moves to $to, then the move is $verdict', ({ from, to, legal }) => {
      expect(canTransition(from, to)).toBe(legal);
    });
  });

  describe('assertTransition', () => {
    test.each(ALL_PAIRS)('given a $from mission, when asserting a move to $to, then it is $verdict', ({ from, to, legal }) => {
      const error = thrownBy(() => assertTransition(from, to));
      if (legal) {
        expect(error).toBeUndefined();
        return;
      }
      expect(error).toBeInstanceOf(IllegalTransitionError);
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({
        code: 'ILLEGAL_TRANSITION',
        name: 'IllegalTransitionError',
        from,
        to,
        message: `illegal mission transition ${from} -> ${to}`,
      });
    });
  });

  describe('shape of the machine', () => {
    test.each(MISSION_STATUSES)('given a %s mission, when it moves to itself, then the move is illegal', (status) => {
      expect(canTransition(status, status)).toBe(false);
    });

    test.each(MISSION_STATUSES)('given a %s mission, when it moves back to created, then the move is illegal', (status) => {
      expect(canTransition(status, 'created')).toBe(false);
    });

    test('given a created mission, when anything but queueing or scheduling happens, then it is illegal (created is never visible)', () => {
      expect(MISSION_STATUSES.filter((to) => canTransition('created', to))).toEqual(['scheduled', 'queued']);
    });

    test('given a scheduled mission, when its time comes or it is cancelled, then it may move; nothing else reaches an agent first', () => {
      expect(MISSION_STATUSES.filter((to) => canTransition('scheduled', to))).toEqual(['queued', 'cancelled']);
    });

    test('given a dead-lettered mission, when an operator requeues it, then it may go back to queued', () => {
      expect(canTransition('dead_lettered', 'queued')).toBe(true);
      expect(canTransition('dead_lettered', 'assigned')).toBe(false);
    });
  });

  describe('IllegalTransitionError', () => {
    test('given no previous status, when the error is built, then the message names "(none)" and from is undefined', () => {
      const error = new IllegalTransitionError(undefined, 'queued');
      expect(error.from).toBeUndefined();
      expect(error.to).toBe('queued');
      expect(error.code).toBe('ILLEGAL_TRANSITION');
      expect(error.message).toBe('illegal mission transition (none) -> queued');
    });
  });

  describe('isTerminal', () => {
    const EXPECTED_TERMINAL: Readonly<Record<MissionStatus, boolean>> = {
      created: false,
      scheduled: false,
      queued: false,
      assigned: false,
      running: false,
      evaluating: false,
      awaiting_review: false,
      succeeded: true,
      dead_lettered: false,
      cancelled: true,
    };

    test.each(MISSION_STATUSES.map((status) => ({ status, terminal: EXPECTED_TERMINAL[status] })))(
      'given a $status mission, when asked if it is terminal, then the answer is $terminal',
      ({ status, terminal }) => {
        expect(isTerminal(status)).toBe(terminal);
      },
    );

    test('given TERMINAL_STATUSES, when compared with isTerminal, then both name exactly succeeded and cancelled', () => {
      expect([...TERMINAL_STATUSES].sort()).toEqual(['cancelled', 'succeeded']);
      expect(MISSION_STATUSES.filter((s) => isTerminal(s))).toEqual([...TERMINAL_STATUSES]);
    });

    test.each(TERMINAL_STATUSES)('given a terminal %s mission, when it tries to move anywhere, then every move is illegal', (status) => {
      for (const to of MISSION_STATUSES) expect(canTransition(status, to)).toBe(false);
    });
  });
});
