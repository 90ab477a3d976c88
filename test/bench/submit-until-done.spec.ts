import { submitUntilDone } from '../../scripts/bench/peers';
import type { Bar } from '../../scripts/bench/ui';

/** A bar that records what it was shown, and resolves `shown(n)` once it has shown n. */
function recordingBar() {
  const values: number[] = [];
  const waiters: { value: number; resolve: () => void }[] = [];
  const bar: Bar & { values: number[]; stopped: boolean; shown(value: number): Promise<void> } = {
    values,
    stopped: false,
    update: (value) => {
      values.push(value);
      for (const waiter of waiters.filter((w) => w.value === value)) waiter.resolve();
    },
    setTotal: () => undefined,
    stop: () => void (bar.stopped = true),
    shown: (value) => (values.includes(value) ? Promise.resolve() : new Promise((resolve) => waiters.push({ value, resolve }))),
  };
  return bar;
}

describe("the BullMQ peer's wait for its jobs (submitUntilDone)", () => {
  // The latency phase's "bullmq done" bar stood at 0 for the whole offer: the count was polled only after it.
  it('given a submission still offering, when jobs finish meanwhile, then the bar shows them before the offer ends', async () => {
    const bar = recordingBar();
    let finished = 0;
    let endOffer!: () => void;
    const offering = new Promise<void>((resolve) => (endOffer = resolve));

    const waiting = submitUntilDone({ count: 3, stallTimeoutS: 60, bar, submit: () => offering, done: async () => finished });
    finished = 2;
    await bar.shown(2);
    expect(bar.stopped).toBe(false);
    endOffer();
    finished = 3;
    await waiting;

    expect(bar.values.at(-1)).toBe(3);
    expect(bar.stopped).toBe(true);
  });

  it('given a submission that fails, then the wait fails with its error and the bar is stopped', async () => {
    const bar = recordingBar();

    await expect(
      submitUntilDone({ count: 3, stallTimeoutS: 60, bar, submit: () => Promise.reject(new Error('addBulk failed')), done: async () => 0 }),
    ).rejects.toThrow('addBulk failed');

    expect(bar.stopped).toBe(true);
  });
});
