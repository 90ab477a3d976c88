import * as fc from 'fast-check';
import { MISSION_TYPES, MissionType, PRIORITY_LEVELS, PriorityLevel } from './mission-type';
import { priorityScore, ScoringInput } from './priority-score';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const HOUR = 3_600_000;

/** The smallest input: low pricing, no deadline, empty payload = 10 + 0. */
function input(overrides: Partial<ScoringInput> = {}): ScoringInput {
  return { type: 'pricing', priority: 'low', payload: {}, ...overrides };
}

const hoursFromNow = (hours: number): string => new Date(NOW.getTime() + hours * HOUR).toISOString();

/** Base score 10 (low + pricing) plus the points of one term. */
const termPoints = (overrides: Partial<ScoringInput>): number => priorityScore(input(overrides)) - 10;

describe('priorityScore', () => {
  describe('level term (low 10 · normal 30 · high 55 · critical 80)', () => {
    test.each<[PriorityLevel, number]>([
      ['low', 10],
      ['normal', 30],
      ['high', 55],
      ['critical', 80],
    ])('given a %s pricing mission with nothing else, when scored, then the score is %d', (priority, expected) => {
      expect(priorityScore(input({ priority }))).toBe(expected);
    });
  });

  describe('type term (maintenance 6 · guest_support 4 · pricing 0)', () => {
    test.each<[MissionType, number]>([
      ['maintenance', 16],
      ['guest_support', 14],
      ['pricing', 10],
    ])('given a low %s mission, when scored, then the score is %d', (type, expected) => {
      expect(priorityScore(input({ type }))).toBe(expected);
    });

    test('given the same level, when the type changes, then maintenance > guest_support > pricing', () => {
      const score = (type: MissionType): number => priorityScore(input({ type, priority: 'high' }));
      expect(score('maintenance')).toBeGreaterThan(score('guest_support'));
      expect(score('guest_support')).toBeGreaterThan(score('pricing'));
    });
  });

  describe('no deadline term', () => {
    test('given the same mission with and without a deadline, when scored, then the scores are equal (the queue weighs time)', () => {
      for (const deadline of [hoursFromNow(-1), hoursFromNow(1), hoursFromNow(24 * 365)]) {
        expect(priorityScore({ ...input(), deadline } as ScoringInput)).toBe(priorityScore(input()));
      }
    });
  });

  describe('VIP term (+8 if payload.vip or payload.guest.vip is true)', () => {
    test.each<[string, Record<string, unknown>, number]>([
      ['payload.vip = true', { vip: true }, 8],
      ['payload.guest.vip = true', { guest: { name: 'Ada', vip: true } }, 8],
      ['both spellings true', { vip: true, guest: { vip: true } }, 8],
      ['payload.vip = false but payload.guest.vip = true', { vip: false, guest: { vip: true } }, 8],
      ['payload.vip = "true" (a string)', { vip: 'true' }, 0],
      ['payload.vip = 1', { vip: 1 }, 0],
      ['payload.guest.vip = false', { guest: { vip: false } }, 0],
      ['payload.guest.vip = "yes"', { guest: { vip: 'yes' } }, 0],
      ['payload.guest = null', { guest: null }, 0],
      ['payload.guest = "vip"', { guest: 'vip' }, 0],
      ['no vip field', {}, 0],
    ])('given %s, when scored, then VIP adds %d points', (_label, payload, points) => {
      expect(termPoints({ payload })).toBe(points);
    });
  });

  describe('revenue term (+min(10, revenueAtStake / 1000))', () => {
    test.each<[string, unknown, number]>([
      ['500 EUR', 500, 0.5],
      ['1000 EUR', 1000, 1],
      ['7500 EUR', 7500, 7.5],
      ['exactly 10000 EUR', 10_000, 10],
      ['250000 EUR (above the cap)', 250_000, 10],
      ['0 EUR', 0, 0],
      ['a negative amount', -5000, 0],
      ['a numeric string', '5000', 0],
      ['NaN', Number.NaN, 0],
      ['Infinity', Number.POSITIVE_INFINITY, 0],
      ['null', null, 0],
    ])('given revenue at stake of %s, when scored, then revenue adds %d points', (_label, revenueAtStake, points) => {
      expect(termPoints({ payload: { revenueAtStake } })).toBeCloseTo(points, 10);
    });

    test('given no revenueAtStake, when scored, then revenue adds nothing', () => {
      expect(termPoints({ payload: { other: 99_999 } })).toBe(0);
    });
  });

  describe('safety term (+15 if payload.safetyIssue is true)', () => {
    test.each<[string, unknown, number]>([
      ['true', true, 15],
      ['false', false, 0],
      ['"true" (a string)', 'true', 0],
      ['1', 1, 0],
    ])('given safetyIssue = %s, when scored, then safety adds %d points', (_label, safetyIssue, points) => {
      expect(termPoints({ payload: { safetyIssue } })).toBe(points);
    });
  });

  describe('sum, clamping and rounding', () => {
    test('given every term at once below the cap, when scored, then the terms add up', () => {
      // normal 30 + guest_support 4 + VIP 8 + 2500 EUR 2.5 + safety 15 = 59.5
      const score = priorityScore({ type: 'guest_support', priority: 'normal', payload: { guest: { vip: true }, revenueAtStake: 2500, safetyIssue: true } });
      expect(score).toBe(59.5);
    });

    test('given every term at its maximum (119 raw), when scored, then the score is clamped to 100', () => {
      const score = priorityScore({ type: 'maintenance', priority: 'critical', payload: { vip: true, revenueAtStake: 1_000_000, safetyIssue: true } });
      expect(score).toBe(100);
    });

    test('given a raw score just over 100 (critical 80 + maintenance 6 + safety 15 = 101), when scored, then it is 100', () => {
      expect(priorityScore(input({ type: 'maintenance', priority: 'critical', payload: { safetyIssue: true } }))).toBe(100);
    });

    test('given the smallest possible input, when scored, then the score is 10 (never below 0)', () => {
      expect(priorityScore(input({ payload: { revenueAtStake: -1e12 } }))).toBe(10);
    });

    test.each<[number, number]>([
      [1234.5678, 11.23],
      [1236.7, 11.24],
      [1, 10],
      [4, 10],
      [6, 10.01],
    ])('given revenue %d EUR, when scored, then the score is rounded to two decimals (%d)', (revenueAtStake, expected) => {
      expect(priorityScore(input({ payload: { revenueAtStake } }))).toBe(expected);
    });

    test('given an input, when scored, then the input is not changed', () => {
      const payload = { vip: true, guest: { vip: true }, revenueAtStake: 1234, safetyIssue: true };
      const scoring: ScoringInput = { type: 'maintenance', priority: 'high', payload };
      const copy = structuredClone(scoring);
      priorityScore(scoring);
      expect(scoring).toEqual(copy);
    });
  });

  describe('properties', () => {
    const levelIndex = fc.integer({ min: 0, max: PRIORITY_LEVELS.length - 1 });
    const type = fc.constantFrom(...MISSION_TYPES);
    const payload: fc.Arbitrary<Record<string, unknown>> = fc.record(
      {
        vip: fc.oneof(fc.boolean(), fc.constant('true')),
        guest: fc.oneof(fc.constant(null), fc.record({ vip: fc.boolean() })),
        revenueAtStake: fc.oneof(fc.integer({ min: -50_000, max: 50_000 }), fc.double(), fc.constant('1000')),
        safetyIssue: fc.oneof(fc.boolean(), fc.constant(1)),
      },
      { requiredKeys: [] },
    );
    const scoringInput: fc.Arbitrary<ScoringInput> = fc
      .record({ type, level: levelIndex, payload })
      .map(({ type: t, level, payload: p }) => ({ type: t, priority: PRIORITY_LEVELS[level], payload: p }));

    test('given any input, when scored, then the score is within 0..100 and has at most two decimals', () => {
      fc.assert(
        fc.property(scoringInput, (i) => {
          const score = priorityScore(i);
          expect(score).toBeGreaterThanOrEqual(0);
          expect(score).toBeLessThanOrEqual(100);
          expect(Number(score.toFixed(2))).toBe(score);
        }),
      );
    });

    test('given any input, when the priority level is raised, then the score never drops', () => {
      fc.assert(
        fc.property(scoringInput, levelIndex, levelIndex, (i, a, b) => {
          const [lower, higher] = a <= b ? [a, b] : [b, a];
          const low = priorityScore({ ...i, priority: PRIORITY_LEVELS[lower] });
          const high = priorityScore({ ...i, priority: PRIORITY_LEVELS[higher] });
          expect(high).toBeGreaterThanOrEqual(low);
        }),
      );
    });

    test('given any input, when vip (either spelling) or safetyIssue is set to true, then the score never drops', () => {
      fc.assert(
        fc.property(scoringInput, (i) => {
          const base = priorityScore(i);
          const withVip = priorityScore({ ...i, payload: { ...i.payload, vip: true } });
          const withGuestVip = priorityScore({ ...i, payload: { ...i.payload, guest: { vip: true } } });
          const withSafety = priorityScore({ ...i, payload: { ...i.payload, safetyIssue: true } });
          expect(withVip).toBeGreaterThanOrEqual(base);
          expect(withGuestVip).toBeGreaterThanOrEqual(base);
          expect(withSafety).toBeGreaterThanOrEqual(base);
        }),
      );
    });

    test('given any input without vip and safety, when both are added, then the score rises by 23 unless the cap is hit', () => {
      fc.assert(
        fc.property(scoringInput, (i) => {
          const plain = { ...i, payload: { ...i.payload, vip: false, guest: null, safetyIssue: false } };
          const flagged = { ...i, payload: { ...i.payload, vip: true, safetyIssue: true } };
          const base = priorityScore(plain);
          // Each side is rounded on its own, so allow one step of the last decimal.
          expect(Math.abs(priorityScore(flagged) - Math.min(100, base + 23))).toBeLessThanOrEqual(0.0100001);
        }),
      );
    });

    test('given any input, when revenue at stake grows, then the score never drops', () => {
      const eur = fc.integer({ min: 0, max: 30_000 });
      fc.assert(
        fc.property(scoringInput, eur, eur, (i, a, b) => {
          const [less, more] = a <= b ? [a, b] : [b, a];
          const low = priorityScore({ ...i, payload: { ...i.payload, revenueAtStake: less } });
          const high = priorityScore({ ...i, payload: { ...i.payload, revenueAtStake: more } });
          expect(high).toBeGreaterThanOrEqual(low);
        }),
      );
    });
  });
});
