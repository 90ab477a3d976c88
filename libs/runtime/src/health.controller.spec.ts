import { HealthIndicatorService } from '@nestjs/terminus';
import { ReplyError } from 'ioredis';
import { RedisConnection } from '@app/redis';
import { REDIS_CHECK_TIMEOUT_MS, redisHealthCheck } from './health.controller';

/** Just what the check reads of a connection: its status and INFO. */
function connection(status: string, info: () => Promise<string>): RedisConnection {
  return { status, info } as unknown as RedisConnection;
}

/** INFO memory of a server with room: no maxmemory set. */
const ROOM = 'used_memory:1000000\r\nmaxmemory:0\r\nmem_not_counted_for_evict:0\r\n';

describe('redisHealthCheck', () => {
  const check = (redis: RedisConnection) => redisHealthCheck(new HealthIndicatorService(), redis)();

  it('given a connection that is up and answers INFO, then redis is up', async () => {
    await expect(check(connection('ready', async () => ROOM))).resolves.toEqual({ redis: { status: 'up' } });
  });

  it('given a connection that is reconnecting, then redis is down at once, and no INFO waits behind the outage', async () => {
    const info = jest.fn(async () => ROOM);
    await expect(check(connection('reconnecting', info))).resolves.toEqual({ redis: { status: 'down', message: 'redis unreachable' } });
    expect(info).not.toHaveBeenCalled();
  });

  it('given an INFO that does not answer in time, then redis is down after the timeout, without the error text', async () => {
    jest.useFakeTimers();
    try {
      const result = check(connection('ready', () => new Promise(() => undefined)));
      await jest.advanceTimersByTimeAsync(REDIS_CHECK_TIMEOUT_MS);
      await expect(result).resolves.toEqual({ redis: { status: 'down', message: 'redis unreachable' } });
    } finally {
      jest.useRealTimers();
    }
  });

  it('given an INFO that fails, then redis is down, without the client library’s error', async () => {
    const failing = connection('ready', () => Promise.reject(new Error('Reached the max retries per request limit (which is 20)')));
    await expect(check(failing)).resolves.toEqual({ redis: { status: 'down', message: 'redis unreachable' } });
  });

  it('given INFO saying used memory is above maxmemory, then redis is down, saying writes are refused', async () => {
    const full = connection('ready', async () => 'used_memory:3000000\r\nmaxmemory:1048576\r\nmem_not_counted_for_evict:0\r\n');
    await expect(check(full)).resolves.toEqual({ redis: { status: 'down', message: 'redis out of memory (writes refused)' } });
  });

  it('given a server that refuses INFO (renamed on a managed Redis), then redis is up: it answered', async () => {
    const refusing = connection('ready', () => Promise.reject(new ReplyError("ERR unknown command 'INFO'")));
    await expect(check(refusing)).resolves.toEqual({ redis: { status: 'up' } });
  });
});
