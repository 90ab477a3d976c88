import { redisUrlDatabase } from './redis-url';

const WHOLE_NUMBER = 'REDIS_URL names a database that is not a whole number; give its number as the path, e.g. redis://host:6379/2, or none for database 0';

describe('redisUrlDatabase', () => {
  it.each([
    ['redis://127.0.0.1:6379', 0],
    ['redis://127.0.0.1:6379/', 0],
    ['redis://127.0.0.1:6379/0', 0],
    ['redis://:s3cret@10.0.0.5:6379/2', 2],
    ['rediss://user:pw@[::1]:6380/15', 15],
    ['redis://127.0.0.1:6379/16', 16],
    ['redis://127.0.0.1:6379?db=3', 3],
  ])('given %s, then the database is %i', (url, database) => {
    expect(redisUrlDatabase(url, 'REDIS_URL')).toBe(database);
  });

  // ioredis sent SELECT NaN for /abc (a ReplyError with a stack), and read /2x as database 2.
  it.each(['/abc', '/-1', '/+1', '/1.5', '/2x', '/1/2', '/%31', '?db=one'])('given the database %s, then it is refused', (tail) => {
    expect(() => redisUrlDatabase(`redis://127.0.0.1:6379${tail}`, 'REDIS_URL')).toThrow(WHOLE_NUMBER);
  });

  it('given a database in the path and in ?db=, then it is refused: ioredis would take the path and ignore the other', () => {
    expect(() => redisUrlDatabase('redis://127.0.0.1:6379/1?db=2', 'REDIS_URL')).toThrow('REDIS_URL names its database twice');
  });

  // ioredis took each as a client option over the services' own: `?keyPrefix=x:` split the keys between two layouts.
  it.each(['?keyPrefix=x:', '/2?lazyConnect=true', '?db=1&socketTimeout=1', '?password=pw'])('given the query %s, then it is refused', (tail) => {
    expect(() => redisUrlDatabase(`redis://127.0.0.1:6379${tail}`, 'REDIS_URL')).toThrow('REDIS_URL takes no query parameter but db');
  });

  it.each(['localhost', 'http://127.0.0.1:6379', 'redis://127.0.0.1:99999', 'redis://a b'])('given %s, then it does not look like a Redis URL', (url) => {
    expect(() => redisUrlDatabase(url, '--redis-url')).toThrow('--redis-url must look like redis://host:port');
  });
});
