import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Environment } from '@app/config';
import { RedisUnavailableError } from '@app/redis';
import { redisUrl, testKeyPrefix, VanishingProxy } from '@app/testing';
import { checkLocalMasterKey } from './local-master-key-check';

/** What `promise` has settled with so far: 'pending' until it does, then its value or its error. */
function outcomeOf(promise: Promise<unknown>): { current: unknown } {
  const outcome: { current: unknown } = { current: 'pending' };
  promise.then(
    (value) => (outcome.current = value),
    (error: unknown) => (outcome.current = error),
  );
  return outcome;
}

/**
 * Moves the fake clock `ms` on in steps of 10 ms, letting the sockets' events in after each: a
 * connection that loses Redis goes by I/O (the close, a refused reconnect) and by timers (the
 * reconnect delays) in turn.
 */
async function advanceWithSockets(ms: number): Promise<void> {
  for (let advanced = 0; advanced < ms; advanced += 10) {
    await jest.advanceTimersByTimeAsync(10);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// Both used to crash the start with ioredis's MaxRetriesPerRequestError and exit 1, about 35 s later.
describe('checkLocalMasterKey: Redis lost during the check', () => {
  const STARTUP_TIMEOUT_MS = 1_000;
  let proxy: VanishingProxy;
  let dataDir: string;
  let warned: jest.SpyInstance;

  const check = () =>
    outcomeOf(
      checkLocalMasterKey(
        Object.assign(new Environment(), {
          REDIS_URL: proxy.url,
          KEY_PREFIX: testKeyPrefix('local-master-key-check'),
          DATA_KEY_SECRET: undefined,
          DATA_KEY_FILE: undefined,
          REDIS_STARTUP_TIMEOUT_MS: STARTUP_TIMEOUT_MS,
        }),
        'intake',
        dataDir,
      ),
    );
  const unavailable = () => `cannot reach Redis at redis://127.0.0.1:${proxy.port} within 1 s (connect ECONNREFUSED 127.0.0.1:${proxy.port}); check REDIS_URL`;

  beforeEach(async () => {
    // Real sockets, fake clock: ioredis's reconnect delays and the start-up wait are timers.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const { hostname, port } = new URL(redisUrl());
    proxy = new VanishingProxy({ host: hostname, port: Number(port || 6379) }, /hrandfield/i);
    await proxy.start();
    dataDir = mkdtempSync(join(tmpdir(), 'brain-local-master-key-check-'));
    // The connection's outage line (logRedisError), not wanted in the test's output.
    warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    jest.useRealTimers();
    warned.mockRestore();
    await proxy.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('given nothing listening at REDIS_URL, then past REDIS_STARTUP_TIMEOUT_MS it fails as Redis unavailable (exit 69), naming REDIS_URL and why', async () => {
    await proxy.stop();
    const checked = check();

    await advanceWithSockets(STARTUP_TIMEOUT_MS);

    expect(checked.current).toBeInstanceOf(RedisUnavailableError);
    expect((checked.current as Error).message).toBe(unavailable());
  });

  it('given Redis gone while it reads the data keys, then past REDIS_STARTUP_TIMEOUT_MS it fails as Redis unavailable (exit 69), naming why', async () => {
    const checked = check();
    await proxy.cut;

    // The start-up wait, not the first refused reconnect: a blip is waited through.
    await advanceWithSockets(STARTUP_TIMEOUT_MS - 10);
    expect(checked.current).toBe('pending');
    await advanceWithSockets(10);

    expect(checked.current).toBeInstanceOf(RedisUnavailableError);
    // The reconnect's refusal says why.
    expect((checked.current as Error).message).toBe(unavailable());
  });
});
