import { ReplyError } from 'ioredis';
import { untilRedisTakes } from './until-redis-takes';

const outOfMemory = () => new ReplyError("OOM command not allowed when used memory > 'maxmemory'. script: append-mission-events");

describe('untilRedisTakes', () => {
  it('given Redis refusing a write twice (out of memory), when it takes the third try, then its value comes back with the refusals counted and the first one told', async () => {
    let tries = 0;
    const told: unknown[] = [];
    const write = async () => {
      tries += 1;
      if (tries <= 2) throw outOfMemory();
      return 'appended';
    };
    await expect(untilRedisTakes(write, { signal: new AbortController().signal, firstRefusal: (error) => told.push(error) })).resolves.toEqual({
      value: 'appended',
      refusals: 2,
    });
    expect(told).toHaveLength(1);
  });

  it('given an error that is not a refusal passing by itself, when the write throws it, then it is thrown at once, not tried again', async () => {
    let tries = 0;
    const write = async () => {
      tries += 1;
      throw new ReplyError('ERR unknown command');
    };
    await expect(untilRedisTakes(write, { signal: new AbortController().signal })).rejects.toThrow('ERR unknown command');
    expect(tries).toBe(1);
  });

  it('given Redis refusing every try, when the signal is aborted during a wait, then the wait ends and the next refusal is thrown', async () => {
    const shutdown = new AbortController();
    let tries = 0;
    const write = async () => {
      tries += 1;
      throw outOfMemory();
    };
    const retrying = untilRedisTakes(write, { signal: shutdown.signal, firstRefusal: () => shutdown.abort() });
    await expect(retrying).rejects.toThrow('OOM command not allowed');
    expect(tries).toBe(2);
  });
});
