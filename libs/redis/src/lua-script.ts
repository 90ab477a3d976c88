import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ChainableCommander } from 'ioredis';
import { isCluster, RedisConnection, slotMapReloaded } from './redis-connection';
import { someReplyCause } from './redis-replies';

/** A table of names the script gets from TypeScript, rendered as `local NAME = { key = 'value', ... }`. */
export type LuaConstants = Readonly<Record<string, Readonly<Record<string, string | number>>>>;

export interface LuaScriptOptions {
  /**
   * Named include roots: `--- @include "@<root>/<path>"` resolves `<path>` under the directory
   * given here. A library exports its Lua directory (e.g. through `missionLuaOptions` of
   * `@app/event-store`) so that another library's script can include its shared files without a
   * path into that library's sources. `@redis` (this library's own, e.g.
   * `@redis/includes/redis-clock`) is always there.
   */
  includeRoots?: Readonly<Record<string, string>>;
  /**
   * Tables declared in TypeScript that the script (and its includes) read as Lua locals, placed
   * before the script's source, so a name the script shares with TypeScript (a hash field) is
   * written down once, on the TypeScript side.
   */
  constants?: LuaConstants;
}

/**
 * A numeric TypeScript enum of a script's result codes as a constant table (member -> number),
 * without the reverse mapping TypeScript adds, so the script returns `CODE.<Member>` and the
 * codes are declared once, in the enum.
 */
export function luaEnum(codes: Readonly<Record<string, string | number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(codes).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
}

/**
 * Times a script is sent again after a MOVED reply, each time with the slot map reloaded: a node
 * that has not heard of the new master yet may give the map that sends it to the old one again.
 */
const MOVED_RETRIES = 3;

/** This library's Lua includes, the include root `@redis` of every script. */
const REDIS_LUA_ROOT = join(__dirname, 'lua');

/** `--- @include "<path>"` on a line of its own; the path is relative to the including file, or `@<root>/...`. */
const INCLUDE_LINE = /^[ \t]*---[ \t]*@include[ \t]+"([^"]+)"[ \t]*$/gm;
const LUA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A Lua script file run with EVALSHA, falling back to EVAL when the server has not seen it (first
 * use, or a restart flushed its script cache). Plain EVALSHA/EVAL calls, rather than ioredis'
 * defineCommand, so they join auto-pipelines that were opened before the script was first used.
 *
 * Loading resolves `--- @include` lines (recursively; each file once per script, a cycle or a
 * missing file is an error at load) and puts the `constants` in front. A name ending in
 * `-<n>` (`lease-ready-missions-8`) declares the script's number of KEYS, checked on every run.
 */
export class LuaScript {
  readonly source: string;
  private readonly sha: string;
  /** The KEYS count the name declares; null for a script whose KEYS count varies. */
  readonly numberOfKeys: number | null;

  constructor(
    dir: string,
    readonly name: string,
    options: LuaScriptOptions = {},
  ) {
    const suffix = /-(\d+)$/.exec(name);
    this.numberOfKeys = suffix ? Number(suffix[1]) : null;
    const body = expandIncludes(join(dir, `${name}.lua`), { redis: REDIS_LUA_ROOT, ...options.includeRoots });
    this.source = renderConstants(options.constants ?? {}) + body;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  /**
   * On a Cluster client, a script that Redis answers MOVED (its slot's master changed: a failover,
   * a slot migrated) is sent again once the slot map is reloaded: MOVED means it did not run.
   * ioredis redirects a command sent alone, but an auto-pipelined batch only when every command
   * in it got the same reply, and two scripts for two slots of one master get two MOVED replies
   * (with their slot numbers), so after a CLUSTER FAILOVER the scripts of a batch failed.
   */
  async run(redis: RedisConnection, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    this.checkKeyCount(keys);
    for (let retries = 0; ; retries++) {
      try {
        return await this.runOnce(redis, keys, args);
      } catch (error) {
        if (!isCluster(redis) || retries >= MOVED_RETRIES || !someReplyCause(error, (reply) => reply.message.startsWith('MOVED '))) throw error;
        await slotMapReloaded(redis);
      }
    }
  }

  /**
   * Adds a run of this script to a MULTI (or pipeline), as EVAL with the whole source: a command
   * queued in a transaction cannot fall back from NOSCRIPT. For the rare transaction of several
   * runs (seeding the agents), not for a hot path.
   */
  addTo(transaction: ChainableCommander, keys: readonly string[], args: readonly (string | number)[]): ChainableCommander {
    this.checkKeyCount(keys);
    return transaction.eval(this.source, keys.length, ...keys, ...args);
  }

  private checkKeyCount(keys: readonly string[]): void {
    if (this.numberOfKeys !== null && keys.length !== this.numberOfKeys) {
      throw new Error(`Lua script ${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    }
  }

  private async runOnce(redis: RedisConnection, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String(error).includes('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** The file's source with every include line replaced by the included file (itself expanded), or by nothing if it was included before. */
function expandIncludes(file: string, roots: Readonly<Record<string, string>>): string {
  const included = new Set<string>();
  const expand = (path: string, chain: readonly string[]): string => {
    included.add(path);
    return readFileSync(path, 'utf8').replace(INCLUDE_LINE, (_line, target: string) => {
      const next = resolveInclude(target, path, roots);
      if (chain.includes(next)) throw new Error(`Lua include cycle: ${[...chain, next].map((p) => basename(p)).join(' -> ')}`);
      if (included.has(next)) return '';
      return expand(next, [...chain, next]).replace(/\n$/, '');
    });
  };
  return expand(resolve(file), [resolve(file)]);
}

function resolveInclude(target: string, from: string, roots: Readonly<Record<string, string>>): string {
  const withExtension = target.endsWith('.lua') ? target : `${target}.lua`;
  let path: string;
  const named = /^@([^/]+)\/(.+)$/.exec(withExtension);
  if (named) {
    const root = roots[named[1]];
    if (root === undefined) throw new Error(`Lua include "${target}" in ${from}: no include root named "${named[1]}"`);
    path = resolve(root, named[2]);
    const inside = relative(resolve(root), path);
    if (inside.startsWith('..') || isAbsolute(inside)) throw new Error(`Lua include "${target}" in ${from} leaves its root`);
  } else {
    path = resolve(dirname(from), withExtension);
  }
  if (!existsSync(path)) throw new Error(`Lua include "${target}" in ${from}: no file ${path}`);
  return path;
}

function renderConstants(constants: LuaConstants): string {
  return Object.entries(constants)
    .map(([name, table]) => {
      const entries = Object.entries(table).map(([key, value]) => {
        if (!LUA_NAME.test(key)) throw new Error(`Lua constant ${name}.${key}: not a Lua name`);
        return `${key} = ${luaValue(`${name}.${key}`, value)}`;
      });
      if (!LUA_NAME.test(name)) throw new Error(`Lua constant ${name}: not a Lua name`);
      return `local ${name} = { ${entries.join(', ')} }\n`;
    })
    .join('');
}

/** Plain ASCII strings and finite numbers only: they read the same in Lua and in TypeScript. */
function luaValue(what: string, value: string | number): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`Lua constant ${what}: not a finite number`);
    return String(value);
  }
  if (!/^[\x20-\x7e]*$/.test(value) || /["\\]/.test(value)) throw new Error(`Lua constant ${what}: only printable ASCII without quotes or backslashes`);
  return `"${value}"`;
}
