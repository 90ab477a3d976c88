import { PeriodicTask } from './periodic-task';

describe('PeriodicTask', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('given no first delay, then it runs once per period, the first after one period', async () => {
    const runs: number[] = [];
    const task = new PeriodicTask(
      async () => runs.push(Date.now()),
      () => undefined,
    );
    const start = Date.now();
    task.start(1_000);
    await jest.advanceTimersByTimeAsync(999);
    expect(runs).toEqual([]);
    await jest.advanceTimersByTimeAsync(2_001);
    expect(runs.map((at) => at - start)).toEqual([1_000, 2_000, 3_000]);
    await task.stop();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(runs).toHaveLength(3);
  });

  it('given a first delay, then the first run comes after it and the next ones a period apart', async () => {
    const runs: number[] = [];
    const task = new PeriodicTask(
      async () => runs.push(Date.now()),
      () => undefined,
    );
    const start = Date.now();
    task.start(60_000, 500);
    await jest.advanceTimersByTimeAsync(121_000);
    expect(runs.map((at) => at - start)).toEqual([500, 60_500, 120_500]);
    await task.stop();
  });

  it('given a stop before the first run, then it never runs', async () => {
    const work = jest.fn(async () => undefined);
    const task = new PeriodicTask(work, () => undefined);
    task.start(1_000, 100);
    await task.stop();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(work).not.toHaveBeenCalled();
  });

  it('given a work that throws at once instead of rejecting, then the error is reported and the next run comes', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const task = new PeriodicTask(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('thrown at once');
        return Promise.resolve();
      },
      (error) => errors.push(error),
    );
    task.start(1_000);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(errors).toEqual([new Error('thrown at once')]);
    expect(calls).toBe(2);
    await task.stop();
  });

  it('given a failing run, then the error is reported and the next run comes as planned', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const task = new PeriodicTask(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
      },
      (error) => errors.push(error),
    );
    task.start(1_000);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(calls).toBe(2);
    expect(errors).toEqual([new Error('boom')]);
    await task.stop();
  });

  it('given a run that outlasts several periods, then the ticks during it are skipped, not queued, and stop waits for that run alone', async () => {
    let release: () => void = () => undefined;
    let calls = 0;
    const task = new PeriodicTask(
      () => {
        calls += 1;
        return calls === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
      },
      () => undefined,
    );
    task.start(1_000);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
    release();
    await jest.advanceTimersByTimeAsync(1_000);
    // Nine ticks came during the first run: each had queued a run behind it, and they all ran now.
    expect(calls).toBe(2);
    const stopped = jest.fn();
    void task.stop().then(stopped);
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toHaveBeenCalled();
    expect(calls).toBe(2);
  });
});
