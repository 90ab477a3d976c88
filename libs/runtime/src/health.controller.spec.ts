import { HealthIndicatorService } from '@nestjs/terminus';
import { RedisConnection } from '@app/redis';
import { REDIS_CHECK_TIMEOUT_MS, redisHealthCheck } from './health.controller';

/** Just what the check reads of a connection: its status and PING. */
function connection(status: string, ping: () => Promise<string>): RedisConnection {
  return { status, ping } as unknown as RedisConnection;
}

describe('redisHealthCheck', () => {
  const check = (redis: RedisConnection) => redisHealthCheck(new HealthIndicatorService(), redis)();

  it('given a connection that is up and answers PING, then redis is up', async () => {
    await expect(check(connection('ready', async () => 'PONG'))).resolves.toEqual({ redis: { status: 'up' } });
  });

  it('given a connection that is reconnecting, then redis is down at once, and no PING waits behind the outage', async () => {
    const ping = jest.fn(async () => 'PONG');
    await expect(check(connection('reconnecting', ping))).resolves.toEqual({ redis: { status: 'down', message: 'redis unreachable' } });
    expect(ping).not.toHaveBeenCalled();
  });

  it('given a PING that does not answer in time, then redis is down after the timeout, without the error text', async () => {
    jest.useFakeTimers();
    try {
      const result = check(connection('ready', () => new Promise(() => undefined)));
      await jest.advanceTimersByTimeAsync(REDIS_CHECK_TIMEOUT_MS);
      await expect(result).resolves.toEqual({ redis: { status: 'down', message: 'redis unreachable' } });
    } finally {
      jest.useRealTimers();
    }
  });

  it('given a PING that fails, then redis is down, without the client library’s error', async () => {
    const failing = connection('ready', () => Promise.reject(new Error('Reached the max retries per request limit (which is 20)')));
    await expect(check(failing)).resolves.toEqual({ redis: { status: 'down', message: 'redis unreachable' } });
  });
});
