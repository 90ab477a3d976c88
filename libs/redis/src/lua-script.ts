import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisConnection } from './redis-connection';

/**
 * A Lua script file run with EVALSHA, falling back to EVAL when the server has not seen it (first
 * use, or a restart flushed its script cache). Plain EVALSHA/EVAL calls, rather than ioredis'
 * defineCommand, so they join auto-pipelines that were opened before the script was first used.
 */
export class LuaScript {
  private readonly source: string;
  private readonly sha: string;

  constructor(dir: string, readonly name: string) {
    this.source = readFileSync(join(dir, `${name}.lua`), 'utf8');
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(redis: RedisConnection, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String(error).includes('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
