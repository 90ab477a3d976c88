import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';

/**
 * A Lua script file run with EVALSHA (ioredis falls back to EVAL after a restart flushed the
 * script cache). Key count goes first in the arguments, since our scripts take a variable number.
 */
export class LuaScript {
  private readonly source: string;
  private readonly command: string;

  constructor(dir: string, readonly name: string) {
    this.source = readFileSync(join(dir, `${name}.lua`), 'utf8');
    this.command = `lua_${name.replace(/-/g, '_')}`;
  }

  run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const target = redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>;
    if (typeof target[this.command] !== 'function') redis.defineCommand(this.command, { lua: this.source });
    return target[this.command](keys.length, ...keys, ...args);
  }
}
