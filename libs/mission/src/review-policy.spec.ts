import * as fc from 'fast-check';
import { parseReviewPolicy, ReviewCandidate, ReviewPolicy, ReviewPolicyError, reviewRuleFor } from './review-policy';

/** The rules of fixtures/review-policy.yaml, written out here so that this spec reads on its own. */
const HOTEL_POLICY: ReviewPolicy = parseReviewPolicy({
  rules: [
    { name: 'guest-replies', type: 'guest_support' },
    { name: 'pricing-large-change', type: 'pricing', rateChangeAbovePercent: 10 },
    { name: 'pricing-at-rate-bound', type: 'pricing', atRateBound: true },
    { name: 'maintenance-safety', type: 'maintenance', payload: { safetyIssue: true } },
  ],
});

function candidate(overrides: Partial<ReviewCandidate['mission']> = {}, output: Record<string, unknown> = {}, score = 0.9): ReviewCandidate {
  return { mission: { type: 'guest_support', priority: 'normal', payload: {}, ...overrides }, output, score };
}

const pricing = (payload: Record<string, unknown>, recommendedRate: number) => candidate({ type: 'pricing', payload }, { recommendedRate });

function problemsOf(document: unknown): string[] {
  try {
    parseReviewPolicy(document);
    return [];
  } catch (error) {
    if (error instanceof ReviewPolicyError) return error.problems;
    throw error;
  }
}

describe('review policy', () => {
  describe('reviewRuleFor with the hotel policy', () => {
    test('given any guest reply, when judged, then guest-replies asks for a review', () => {
      expect(reviewRuleFor(HOTEL_POLICY, candidate())).toBe('guest-replies');
    });

    test.each([
      ['a 9 % rise inside the bounds', 100, 109, null],
      ['an 11 % rise', 100, 111, 'pricing-large-change'],
      ['a 15 % drop', 100, 85, 'pricing-large-change'],
      ['a rate at the floor', 100, 95, 'pricing-at-rate-bound'],
      ['a rate at the ceiling', 100, 105, 'pricing-at-rate-bound'],
    ] as const)('given %s, when judged, then the rule is %s', (_what, currentRate, rate, rule) => {
      expect(reviewRuleFor(HOTEL_POLICY, pricing({ currentRate, minRate: 95, maxRate: 105 + (rate === 109 ? 10 : 0) }, rate))).toBe(rule);
    });

    test('given a pricing result without a current rate, when judged, then it is reviewed: its move cannot be checked', () => {
      expect(reviewRuleFor(HOTEL_POLICY, pricing({}, 120))).toBe('pricing-large-change');
    });

    test('given maintenance, when judged, then only a safety issue is reviewed', () => {
      expect(reviewRuleFor(HOTEL_POLICY, candidate({ type: 'maintenance', payload: { safetyIssue: true } }))).toBe('maintenance-safety');
      expect(reviewRuleFor(HOTEL_POLICY, candidate({ type: 'maintenance', payload: { safetyIssue: false } }))).toBeNull();
      expect(reviewRuleFor(HOTEL_POLICY, candidate({ type: 'maintenance', payload: {} }))).toBeNull();
    });
  });

  describe('conditions', () => {
    test('given priority, score and a nested payload fact, when all hold, then the rule holds; when one does not, then it does not', () => {
      const policy = parseReviewPolicy({ rules: [{ name: 'vip-doubt', priority: ['high', 'critical'], scoreBelow: 0.8, payload: { 'guest.vip': true } }] });
      const vip = { priority: 'high' as const, payload: { guest: { vip: true } } };
      expect(reviewRuleFor(policy, candidate(vip, {}, 0.7))).toBe('vip-doubt');
      expect(reviewRuleFor(policy, candidate(vip, {}, 0.8))).toBeNull();
      expect(reviewRuleFor(policy, candidate({ ...vip, priority: 'normal' }, {}, 0.7))).toBeNull();
      expect(reviewRuleFor(policy, candidate({ ...vip, payload: { guest: { vip: 'yes' } } }, {}, 0.7))).toBeNull();
    });

    test('given several rules that hold, when judged, then the first is named; given no rules, then nothing is reviewed', () => {
      const policy = parseReviewPolicy({ rules: [{ name: 'first', type: 'guest_support' }, { name: 'everything' }] });
      expect(reviewRuleFor(policy, candidate())).toBe('first');
      expect(reviewRuleFor(policy, candidate({ type: 'pricing' }))).toBe('everything');
      expect(reviewRuleFor(parseReviewPolicy({ rules: [] }), candidate())).toBeNull();
    });

    test('given any candidate, when the policy has a rule without conditions, then a rule is always named (property)', () => {
      const policy = parseReviewPolicy({ rules: [{ name: 'typed', type: 'pricing', rateChangeAbovePercent: 5 }, { name: 'all' }] });
      fc.assert(
        fc.property(
          fc.constantFrom('guest_support', 'pricing', 'maintenance'),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.option(fc.double({ min: 1, max: 1000, noNaN: true }), { nil: undefined }),
          (type, score, rate) => {
            const rule = reviewRuleFor(policy, candidate({ type, payload: { currentRate: 100 } }, rate === undefined ? {} : { recommendedRate: rate }, score));
            expect(['typed', 'all']).toContain(rule);
            if (type !== 'pricing') expect(rule).toBe('all');
          },
        ),
      );
    });
  });

  describe('parseReviewPolicy', () => {
    test('given a document that is not {rules: […]}, when parsed, then it is refused', () => {
      expect(problemsOf(null)).toEqual(['the policy must be an object with a list "rules"']);
      expect(problemsOf({ rules: {} })).toEqual(['the policy must be an object with a list "rules"']);
      expect(problemsOf({ rules: [], extra: 1 })).toEqual(['unknown top-level key "extra" (only "rules")']);
    });

    test('given bad rules, when parsed, then every problem names its rule by position and name', () => {
      const problems = problemsOf({
        rules: [
          { name: 'guest-replies', type: 'guest' },
          { name: 'guest-replies' },
          { type: 'pricing' },
          { name: 'odd', scoreBelow: 2, rateChangeAbovePercent: -1, atRateBound: false, payload: { 'a..b': 1 }, priority: [], color: 'red' },
        ],
      });
      expect(problems).toEqual([
        'rule 1 ("guest-replies"): "type" must be one of guest_support, pricing, maintenance, or a non-empty list of them',
        'rule 2 ("guest-replies"): "name" is used by an earlier rule',
        'rule 3: "name" must be 1 to 64 letters, digits or _ . -',
        expect.stringMatching(/^rule 4 \("odd"\): unknown key "color"/),
        'rule 4 ("odd"): "priority" must be one of low, normal, high, critical, or a non-empty list of them',
        'rule 4 ("odd"): "scoreBelow" must be a number above 0 and at most 1',
        'rule 4 ("odd"): "payload" must map dot paths (e.g. guest.vip) to a string, number or boolean, at least one',
        'rule 4 ("odd"): "rateChangeAbovePercent" must be a number of at least 0',
        'rule 4 ("odd"): "atRateBound" must be true (leave it out otherwise)',
      ]);
    });

    test('given a pricing condition in a rule not of type pricing alone, when parsed, then it is refused naming the rule', () => {
      expect(
        problemsOf({
          rules: [
            { name: 'big-moves', rateChangeAbovePercent: 10 },
            { name: 'bounds', type: ['pricing', 'guest_support'], atRateBound: true },
            { name: 'both', type: 'maintenance', rateChangeAbovePercent: 5, atRateBound: true },
            { name: 'fine', type: ['pricing'], rateChangeAbovePercent: 10, atRateBound: true },
          ],
        }),
      ).toEqual([
        'rule 1 ("big-moves"): "type" must be pricing alone with "rateChangeAbovePercent": a pricing condition reads the recommendedRate',
        'rule 2 ("bounds"): "type" must be pricing alone with "atRateBound": a pricing condition reads the recommendedRate',
        'rule 3 ("both"): "type" must be pricing alone with "rateChangeAbovePercent" and "atRateBound": a pricing condition reads the recommendedRate',
      ]);
    });
  });
});
