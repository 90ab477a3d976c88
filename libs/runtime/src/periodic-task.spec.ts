import { createRedisConnection, RedisConnection, settlesWithin } from '@app/redis';
import { nextEvent, PrivateRedis, startPrivateRedis } from '@app/testing';
import { PeriodicTask } from './periodic-task';

/** Far under the retries a command waits out while Redis is away (half a minute and more). */
const STOPPED_WITHIN_MS = 3_000;

describe('PeriodicTask', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('given no first delay, then it runs once per period, the first after one period', async () => {
    const runs: number[] = [];
    const task = new PeriodicTask(
      async () => runs.push(Date.now()),
      () => undefined,
      null,
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
      null,
    );
    const start = Date.now();
    task.start(60_000, 500);
    await jest.advanceTimersByTimeAsync(121_000);
    expect(runs.map((at) => at - start)).toEqual([500, 60_500, 120_500]);
    await task.stop();
  });

  it('given a stop before the first run, then it never runs', async () => {
    const work = jest.fn(async () => undefined);
    const task = new PeriodicTask(work, () => undefined, null);
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
      null,
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
      null,
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
      null,
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

// The connection is given with the work, so a stop cannot leave it out: a stop that waited for a
// run whatever became of Redis waited out that run's command retries during an outage.
describe('PeriodicTask given the connection its work waits on', () => {
  let redis: PrivateRedis;
  let connection: RedisConnection;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    connection = createRedisConnection({ REDIS_URL: redis.url }, { name: 'periodic-task-test', log: () => undefined });
    await connection.ping();
  });

  afterAll(async () => {
    connection?.disconnect();
    await redis?.stop();
  });

  /** A task whose one run (at once) signals its start, waits for `go`, then waits on the connection. */
  const taskWaitingOnRedis = () => {
    let began: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (began = resolve));
    let go: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (go = resolve));
    const run = { done: false, failed: false };
    const task = new PeriodicTask(
      async () => {
        began();
        await gate;
        await connection.set('periodic-task:run', '1');
        run.done = true;
      },
      () => (run.failed = true),
      connection,
    );
    task.start(60_000, 0);
    return { task, started, go, run };
  };

  it('given Redis reachable, then stop waits for the run in progress', async () => {
    const { task, started, go, run } = taskWaitingOnRedis();
    await started;
    const stopped = task.stop();
    go();
    await stopped;
    expect(run).toEqual({ done: true, failed: false });
  });

  it('given Redis lost while a run waits on it, then stop returns without waiting out its commands', async () => {
    const { task, started, go, run } = taskWaitingOnRedis();
    await started;
    const lost = nextEvent(connection, 'reconnecting');
    await redis.halt();
    await lost;
    go();
    await expect(settlesWithin(task.stop(), STOPPED_WITHIN_MS)).resolves.toBe(true);
    expect(run.done).toBe(false);
    // The run's command goes out once Redis is back: nothing of it is left behind the test.
    await redis.restart();
    await connection.ping();
  });
});
