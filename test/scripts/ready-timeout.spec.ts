import { readyTimeoutMs } from '../../scripts/launcher';

/**
 * How long `npm start`, the demo and the bench wait for the services to be ready. Each waited 60 s
 * whatever REDIS_STARTUP_TIMEOUT_MS said: with 60 s or more and no Redis, the demo gave up first
 * ("demo: not ready after 60 s", exit 1) instead of ending with the services' 69, the bench too,
 * and `npm start` said "Still waiting: … not ready after 60 s" while the services still waited.
 */
describe('the wait of npm start, the demo and the bench for the services to be ready', () => {
  it('given REDIS_STARTUP_TIMEOUT_MS unset, then it waits 60 s, as it did', () => {
    expect(readyTimeoutMs({})).toBe(60_000);
  });

  it.each(['60000', '90000', '3600000'])(
    "given REDIS_STARTUP_TIMEOUT_MS=%s, then it waits past the services' wait for Redis, with time to start after it",
    (value) => {
      expect(readyTimeoutMs({ REDIS_STARTUP_TIMEOUT_MS: value })).toBeGreaterThanOrEqual(Number(value) + 30_000);
    },
  );

  it('given a short REDIS_STARTUP_TIMEOUT_MS, then it still waits 60 s for the services to start', () => {
    expect(readyTimeoutMs({ REDIS_STARTUP_TIMEOUT_MS: '1000' })).toBe(60_000);
  });

  // The services refuse these (78, naming the variable) before they wait for anything.
  it.each(['abc', '0x10000', '500', '-1'])('given REDIS_STARTUP_TIMEOUT_MS=%s, which the services refuse, then it waits as for the default', (value) => {
    expect(readyTimeoutMs({ REDIS_STARTUP_TIMEOUT_MS: value })).toBe(60_000);
  });
});
