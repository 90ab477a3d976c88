import { redisUrl } from '@app/testing';
import { createRedisConnection, RedisConnection } from './redis-connection';

// A file of its own: the first connection made here must be made after console.warn is watched.
describe('a password the server does not ask for', () => {
  it("given several connections, then ioredis' warning of it comes once, not at every connect", async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const url = new URL(redisUrl());
    url.password = 'not-needed';
    const connections: RedisConnection[] = [];
    let warnings: unknown[][];
    try {
      for (let i = 0; i < 3; i++) {
        const connection = createRedisConnection({ REDIS_URL: url.toString() }, { name: `password-warning-${i}`, lazyConnect: true });
        connections.push(connection);
        await connection.ping();
      }
      warnings = [...warn.mock.calls];
    } finally {
      await Promise.all(connections.map((connection) => connection.quit()));
      warn.mockRestore();
    }

    expect(warnings).toEqual([[expect.stringMatching(/does not require a password/)]]);
  });
});
