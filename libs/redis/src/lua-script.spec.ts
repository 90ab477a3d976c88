import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { testKeyPrefix, testRedisConnection } from '@app/testing';
import { deleteKeysByPrefix } from './key-scan';
import { LuaScript, luaEnum } from './lua-script';

describe('LuaScript', () => {
  let dir: string;

  /** Writes the files (path relative to the temp dir -> content). */
  const files = (contents: Record<string, string>) => {
    for (const [path, content] of Object.entries(contents)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lua-script-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('includes', () => {
    it('replaces an include line with the file it names, relative to the including file', () => {
      files({
        'main.lua': '-- main\n--- @include "includes/add"\nreturn add(1, 2)\n',
        'includes/add.lua': 'local function add(a, b) return a + b end\n',
      });

      expect(new LuaScript(dir, 'main').source).toBe('-- main\nlocal function add(a, b) return a + b end\nreturn add(1, 2)\n');
    });

    it('resolves nested includes relative to the file that includes them, with or without .lua', () => {
      files({
        'main.lua': '--- @include "includes/outer.lua"\nreturn outer()\n',
        'includes/outer.lua': '--- @include "inner/inner"\nlocal function outer() return inner() end\n',
        'includes/inner/inner.lua': 'local function inner() return 7 end\n',
      });

      expect(new LuaScript(dir, 'main').source).toBe('local function inner() return 7 end\nlocal function outer() return inner() end\nreturn outer()\n');
    });

    it('includes a file once, however many files include it', () => {
      files({
        'main.lua': '--- @include "a"\n--- @include "b"\n--- @include "shared"\nreturn 1\n',
        'a.lua': '--- @include "shared"\n-- a\n',
        'b.lua': '--- @include "./shared.lua"\n-- b\n',
        'shared.lua': '-- shared\n',
      });

      const source = new LuaScript(dir, 'main').source;

      expect(source.match(/-- shared/g)).toHaveLength(1);
      expect(source).toBe('-- shared\n-- a\n\n-- b\n\nreturn 1\n');
    });

    it('refuses a cycle at load, naming the files in it', () => {
      files({
        'main.lua': '--- @include "a"\nreturn 1\n',
        'a.lua': '--- @include "b"\n',
        'b.lua': '--- @include "a"\n',
      });

      expect(() => new LuaScript(dir, 'main')).toThrow('Lua include cycle: main.lua -> a.lua -> b.lua -> a.lua');
    });

    it('refuses a script that includes itself', () => {
      files({ 'main.lua': '--- @include "main"\nreturn 1\n' });

      expect(() => new LuaScript(dir, 'main')).toThrow('Lua include cycle: main.lua -> main.lua');
    });

    it('refuses a missing include at load, naming it and the file that wants it', () => {
      files({ 'main.lua': '--- @include "includes/nothing"\nreturn 1\n' });

      expect(() => new LuaScript(dir, 'main')).toThrow(/Lua include "includes\/nothing" in .*main\.lua: no file .*nothing\.lua/);
    });

    it('resolves @<root>/ paths under a named include root, and no other root', () => {
      files({
        'app/main.lua': '--- @include "@lib/includes/helper"\nreturn helper()\n',
        'lib/includes/helper.lua': '--- @include "other"\nlocal function helper() return other end\n',
        'lib/includes/other.lua': 'local other = 3\n',
      });
      const roots = { lib: join(dir, 'lib') };

      expect(new LuaScript(join(dir, 'app'), 'main', { includeRoots: roots }).source).toBe(
        'local other = 3\nlocal function helper() return other end\nreturn helper()\n',
      );
      expect(() => new LuaScript(join(dir, 'app'), 'main')).toThrow('no include root named "lib"');
    });

    it('refuses an @<root>/ path that leaves its root', () => {
      files({ 'app/main.lua': '--- @include "@lib/../app/main"\nreturn 1\n', 'lib/x.lua': '' });

      expect(() => new LuaScript(join(dir, 'app'), 'main', { includeRoots: { lib: join(dir, 'lib') } })).toThrow('leaves its root');
    });

    it('leaves an include inside other text alone: only a line of its own is an include', () => {
      files({ 'main.lua': '-- see --- @include "x" in the docs\nreturn 1\n' });

      expect(new LuaScript(dir, 'main').source).toBe('-- see --- @include "x" in the docs\nreturn 1\n');
    });
  });

  describe('constants', () => {
    it('declares each table as a Lua local before the source', () => {
      files({ 'main.lua': 'return F.name\n' });

      expect(new LuaScript(dir, 'main', { constants: { F: { name: 'n', count: 3 } } }).source).toBe('local F = { name = "n", count = 3 }\nreturn F.name\n');
    });

    it('refuses names and values that would not read the same in Lua', () => {
      files({ 'main.lua': 'return 1\n' });

      expect(() => new LuaScript(dir, 'main', { constants: { 'not-a-name': { a: 'a' } } })).toThrow('not a Lua name');
      expect(() => new LuaScript(dir, 'main', { constants: { F: { a: 'say "hi"' } } })).toThrow('printable ASCII');
      expect(() => new LuaScript(dir, 'main', { constants: { F: { a: Number.NaN } } })).toThrow('finite number');
    });
  });

  describe('luaEnum', () => {
    enum Code {
      Ok = 0,
      Conflict = 1,
    }

    it('gives the members of a numeric enum without the reverse mapping, ready to be a constant', () => {
      files({ 'main.lua': 'return CODE.Conflict\n' });

      expect(luaEnum(Code)).toEqual({ Ok: 0, Conflict: 1 });
      expect(new LuaScript(dir, 'main', { constants: { CODE: luaEnum(Code) } }).source).toBe('local CODE = { Ok = 0, Conflict = 1 }\nreturn CODE.Conflict\n');
    });
  });

  describe('on Redis', () => {
    const redis = testRedisConnection('lua-script-spec');
    let prefix: string;

    beforeEach(() => {
      prefix = testKeyPrefix('lua-script');
    });

    afterEach(async () => {
      await deleteKeysByPrefix(redis, prefix);
    });

    afterAll(async () => {
      await redis.quit();
    });

    it('runs a script with nested includes and constants: loaded once, then by its SHA', async () => {
      files({
        'bump-2.lua': '--- @include "includes/counter"\nreturn { bump(KEYS[1], ARGV[1]), bump(KEYS[2], ARGV[1]) }\n',
        'includes/counter.lua': '--- @include "fields"\nlocal function bump(key, by) return redis.call("HINCRBY", key, FIELDS.count, by) end\n',
        'includes/fields.lua': '-- FIELDS comes from TypeScript\n',
      });
      const script = new LuaScript(dir, 'bump-2', { constants: { FIELDS: { count: 'c' } } });
      const keys = [`${prefix}{t}:a`, `${prefix}{t}:b`];

      await expect(script.run(redis, keys, [2])).resolves.toEqual([2, 2]);
      expect(await redis.script('EXISTS', createHash('sha1').update(script.source).digest('hex'))).toEqual([1]);
      await expect(script.run(redis, keys, [3])).resolves.toEqual([5, 5]);
      expect(await redis.hgetall(keys[0])).toEqual({ c: '5' });
    });

    it('refuses to run a script with another number of keys than its name declares', async () => {
      files({ 'two-2.lua': 'return #KEYS\n' });
      const script = new LuaScript(dir, 'two-2');

      expect(script.numberOfKeys).toBe(2);
      await expect(script.run(redis, [`${prefix}a`], [])).rejects.toThrow('Lua script two-2 takes 2 keys, got 1');
    });

    it('adds runs to a MULTI as EVAL of its source, which runs where Redis does not know the script yet, and checks the key count there too', async () => {
      files({ [`count-${process.pid}-1.lua`]: `-- ${prefix}\nreturn redis.call("INCRBY", KEYS[1], ARGV[1])\n` });
      const script = new LuaScript(dir, `count-${process.pid}-1`);
      const key = `${prefix}{t}:n`;
      const transaction = redis.multi();
      script.addTo(transaction, [key], [2]);
      script.addTo(transaction, [key], [3]);

      expect(await redis.script('EXISTS', createHash('sha1').update(script.source).digest('hex'))).toEqual([0]);
      expect(await transaction.exec()).toEqual([
        [null, 2],
        [null, 5],
      ]);
      expect(() => script.addTo(redis.multi(), [], [1])).toThrow(`takes 1 keys, got 0`);
    });
  });
});
