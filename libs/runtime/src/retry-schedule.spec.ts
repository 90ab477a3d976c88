import fc from 'fast-check';
import { isRetryable, nextStep, RetryPolicy } from './retry-schedule';

const policy: RetryPolicy = { backoffMs: 1_000, backoffMaxMs: 60_000, retryPeriodMs: 3_600_000 };

describe('retry schedule of webhook deliveries', () => {
  it('given a 2xx, then the delivery is delivered; a 4xx other than 429, or a refused URL, is dead at once', () => {
    for (const status of [200, 201, 204, 299]) expect(nextStep({ status }, 1, 0, 0, policy, 'msg_1')).toEqual({ kind: 'delivered' });
    for (const status of [301, 400, 401, 404, 410]) expect(nextStep({ status }, 1, 0, 0, policy, 'msg_1')).toEqual({ kind: 'dead' });
    expect(nextStep({ error: 'refused: loopback', retryable: false }, 1, 0, 0, policy, 'msg_1')).toEqual({ kind: 'dead' });
  });

  it('given 429, a 5xx or no answer, then it is retried', () => {
    for (const result of [{ status: 429 }, { status: 500 }, { status: 503 }, { error: 'ECONNREFUSED', retryable: true }]) {
      expect(isRetryable(result)).toBe(true);
      expect(nextStep(result, 1, 0, 0, policy, 'msg_1').kind).toBe('retry');
    }
  });

  it('property: the delay of attempt n lies in [d/2, d] for d = min(max, base × 2^(n−1)), whatever the jitter key', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.string(), (attempts, key) => {
        const now = 1_000_000;
        const step = nextStep({ status: 503 }, attempts, now, now, { ...policy, retryPeriodMs: Number.MAX_SAFE_INTEGER }, key);
        const full = Math.min(policy.backoffMaxMs, policy.backoffMs * 2 ** (attempts - 1));
        if (step.kind !== 'retry') return false;
        return step.at - now >= full / 2 - 1 && step.at - now <= full;
      }),
    );
  });

  it('property: no retry is scheduled after the retry period; the attempt that would fall after it makes the delivery dead', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 10_000_000 }), fc.string(), (attempts, elapsed, key) => {
        const first = 5_000;
        const step = nextStep({ status: 500 }, attempts, first, first + elapsed, policy, key);
        return step.kind === 'dead' || (step.kind === 'retry' && step.at - first <= policy.retryPeriodMs);
      }),
    );
  });
});
