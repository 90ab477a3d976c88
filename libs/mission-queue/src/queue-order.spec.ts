import * as fc from 'fast-check';
import { QueuedMission, queueKey, QueueOrderOptions, SAFETY_TIER_MS } from './queue-order';

const OPTIONS: QueueOrderOptions = { headStartMsPerPoint: 3_000, deadlineLeadMs: 3_600_000 };
const T = 1_800_000_000_000;
const HOUR = 3_600_000;
const at = (ms: number): string => new Date(ms).toISOString();
const mission = (priorityScore: number, deadline?: number, safetyIssue = false): QueuedMission => ({
  priorityScore,
  payload: safetyIssue ? { safetyIssue: true } : {},
  ...(deadline === undefined ? {} : { deadline: at(deadline) }),
});

/** A mission waiting in the queue: its key, when it was queued, its deadline. */
const queued = fc.record({
  score: fc.integer({ min: 10, max: 100 }),
  queuedAt: fc.integer({ min: 0, max: 48 * HOUR }).map((ms) => T + ms),
  dueAfterQueued: fc.option(fc.integer({ min: 0, max: 72 * HOUR }), { nil: undefined }),
});

describe('queueKey', () => {
  it('given no deadline and no safety issue, then the key is the time queued minus the head start', () => {
    expect(queueKey(mission(30), T, OPTIONS)).toBe(T - 90_000);
  });

  it('given a deadline further away than the lead, then it changes nothing; within the lead, the mission counts as queued the lead before it', () => {
    expect(queueKey(mission(30, T + 5 * HOUR), T, OPTIONS)).toBe(T - 90_000);
    expect(queueKey(mission(30, T + 20 * 60_000), T, OPTIONS)).toBe(T + 20 * 60_000 - HOUR - 90_000);
  });

  it('given a deadline already past when queued, then it counts as due at that moment, not earlier', () => {
    expect(queueKey(mission(30, T - 30 * 24 * HOUR), T, OPTIONS)).toBe(T - HOUR - 90_000);
  });

  it('given an unparsable deadline, then it is ignored', () => {
    expect(queueKey({ priorityScore: 30, payload: {}, deadline: 'soon' }, T, OPTIONS)).toBe(T - 90_000);
  });

  it('given a safety issue, then it is a tier ahead', () => {
    expect(queueKey(mission(30, undefined, true), T, OPTIONS)).toBe(T - 90_000 - SAFETY_TIER_MS);
  });

  describe('properties', () => {
    it('given two missions of equal priority, when the nearer deadline falls within the lead of the other being queued, then it is served first', () => {
      fc.assert(
        fc.property(queued, queued, (a, b) => {
          fc.pre(a.dueAfterQueued !== undefined);
          const dueA = a.queuedAt + (a.dueAfterQueued ?? 0);
          const dueB = b.dueAfterQueued === undefined ? Infinity : b.queuedAt + b.dueAfterQueued;
          fc.pre(dueA < dueB && dueA - OPTIONS.deadlineLeadMs < b.queuedAt);
          const keyA = queueKey(mission(50, dueA), a.queuedAt, OPTIONS);
          const keyB = queueKey(mission(50, Number.isFinite(dueB) ? dueB : undefined), b.queuedAt, OPTIONS);
          expect(keyA).toBeLessThan(keyB);
        }),
        { numRuns: 2_000 },
      );
    });

    it('given a waiting non-safety mission, then only missions queued less than the lead plus the head-start gap after it can be ahead of it', () => {
      fc.assert(
        fc.property(queued, queued, fc.integer({ min: -100 * 24 * HOUR, max: 100 * 24 * HOUR }), (waiting, later, dueOffset) => {
          fc.pre(later.queuedAt > waiting.queuedAt);
          const waitingKey = queueKey(mission(waiting.score), waiting.queuedAt, OPTIONS);
          // The later mission may have any deadline at all, past or future.
          const laterKey = queueKey(mission(later.score, later.queuedAt + dueOffset), later.queuedAt, OPTIONS);
          const bound = OPTIONS.deadlineLeadMs + (later.score - waiting.score) * OPTIONS.headStartMsPerPoint;
          if (laterKey < waitingKey) expect(later.queuedAt - waiting.queuedAt).toBeLessThan(bound);
        }),
        { numRuns: 2_000 },
      );
    });

    it('given any safety issue and any other mission, then the safety issue is ahead, whatever their age, score or deadline', () => {
      fc.assert(
        fc.property(queued, queued, (safety, other) => {
          const safetyKey = queueKey(mission(safety.score, undefined, true), safety.queuedAt, OPTIONS);
          const due = other.dueAfterQueued === undefined ? undefined : other.queuedAt - other.dueAfterQueued;
          expect(safetyKey).toBeLessThan(queueKey(mission(other.score, due), other.queuedAt, OPTIONS));
        }),
      );
    });

    it('given a mission, when a deadline is added, then it is never further back than without one', () => {
      fc.assert(
        fc.property(queued, fc.integer({ min: -100 * 24 * HOUR, max: 100 * 24 * HOUR }), (m, dueOffset) => {
          expect(queueKey(mission(m.score, m.queuedAt + dueOffset), m.queuedAt, OPTIONS)).toBeLessThanOrEqual(queueKey(mission(m.score), m.queuedAt, OPTIONS));
        }),
      );
    });
  });
});
