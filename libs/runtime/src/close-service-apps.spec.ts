import { closeServiceApps, ONE_PROCESS_CLOSE_MS } from './close-service-apps';

/** An app whose close takes `drainMs` on the fake clock, as a drain within SHUTDOWN_GRACE_MS does. */
function drainingApp(drainMs: number, closes: string[], name: string) {
  return {
    close: async () => {
      closes.push(`${name} began`);
      await new Promise((resolve) => setTimeout(resolve, drainMs));
      closes.push(`${name} closed`);
    },
  };
}

describe('closeServiceApps', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('given an intake draining HTTP and an executor draining LLM calls, each near its grace, then both drain side by side within the limit', async () => {
    // SHUTDOWN_GRACE_MS at its most (8 s): one after the other, the two took 16 s against the 9 s limit.
    const closes: string[] = [];
    const closed = closeServiceApps([drainingApp(7_500, closes, 'intake'), drainingApp(7_500, closes, 'executor')]);
    expect(closes).toEqual(['intake began', 'executor began']);
    await jest.advanceTimersByTimeAsync(7_500);
    await expect(closed).resolves.toBe(true);
    expect(closes).toEqual(['intake began', 'executor began', 'intake closed', 'executor closed']);
  });

  it('given a close that fails, then the others still close and the result says not cleanly', async () => {
    const closes: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const failing = { close: () => Promise.reject(new Error('redis gone')) };
      const closed = closeServiceApps([failing, drainingApp(100, closes, 'evaluator')]);
      await jest.advanceTimersByTimeAsync(100);
      await expect(closed).resolves.toBe(false);
      expect(closes).toEqual(['evaluator began', 'evaluator closed']);
      expect(stderr).toHaveBeenCalledWith('one-process: closing a service failed: redis gone\n');
    } finally {
      stderr.mockRestore();
    }
  });

  it('given a close that never ends, then it gives up at the limit, under the launcher’s 10 s', async () => {
    const closed = closeServiceApps([{ close: () => new Promise<void>(() => undefined) }]);
    let result: boolean | undefined;
    void closed.then((value) => (result = value));
    await jest.advanceTimersByTimeAsync(ONE_PROCESS_CLOSE_MS - 1);
    expect(result).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    expect(result).toBe(false);
    expect(ONE_PROCESS_CLOSE_MS).toBeLessThan(10_000);
  });
});
