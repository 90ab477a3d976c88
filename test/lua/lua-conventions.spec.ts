import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { flatDoc } from '../support/docs-text';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Every `lua` directory under <project>/src of the libraries and apps, e.g. src/subjects/lua. */
function luaDirs(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const sub = path.join(dir, entry.name);
      if (entry.name === 'lua') found.push(sub);
      else walk(sub);
    }
  };
  for (const top of ['apps', 'libs']) {
    for (const project of readdirSync(path.join(REPO_ROOT, top))) {
      const src = path.join(top, project, 'src');
      try {
        readdirSync(path.join(REPO_ROOT, src));
      } catch {
        continue;
      }
      walk(src);
    }
  }
  return found;
}

/** The Lua files directly in `dir` (relative to the repository). */
function luaFilesIn(dir: string): { file: string; text: string }[] {
  let names: string[];
  try {
    names = readdirSync(path.join(REPO_ROOT, dir)).filter((file) => file.endsWith('.lua'));
  } catch {
    return [];
  }
  return names.map((name) => ({ file: path.join(dir, name), text: readFileSync(path.join(REPO_ROOT, dir, name), 'utf8') }));
}

/** Every Lua script (not an include) of the libraries and apps. */
function scripts(): { file: string; text: string }[] {
  return luaDirs().flatMap((dir) => luaFilesIn(dir));
}

/** Every shared Lua include (a `lua/includes` directory's files). */
function includes(): { file: string; text: string }[] {
  return luaDirs().flatMap((dir) => luaFilesIn(path.join(dir, 'includes')));
}

/** The opening --[[ ... ]] comment. */
const header = (text: string): string => /^--\[\[([\s\S]*?)\]\]/.exec(text)?.[1] ?? '';
const code = (text: string): string => text.replace(/--\[\[[\s\S]*?\]\]/g, '').replace(/--.*$/gm, '');

describe('Lua script conventions (docs/operations.md, "Lua scripts")', () => {
  const all = scripts();

  it('finds the scripts', () => {
    expect(all.map((script) => path.basename(script.file))).toEqual(
      expect.arrayContaining(['append-mission-events.lua', 'lease-ready-missions-8.lua', 'append-schedule-events-4.lua', 'mark-erasure-pending-2.lua']),
    );
  });

  it.each(all.map((script) => [script.file, script.text]))('%s opens with a comment that lists its KEYS and its result', (_file, text) => {
    expect(header(text)).toMatch(/KEYS\[1/);
    expect(header(text)).toMatch(/Result/);
  });

  it.each(all.filter((script) => /-\d+\.lua$/.test(script.file)).map((script) => [script.file, script.text]))(
    '%s takes as many KEYS as its name says, and its header lists exactly those',
    (file, text) => {
      const declared = Number(/-(\d+)\.lua$/.exec(file)?.[1]);
      const listed = [...header(text).matchAll(/KEYS\[(\d+)\]/g)].map((match) => Number(match[1]));
      const used = [...code(text).matchAll(/KEYS\[(\d+)\]/g)].map((match) => Number(match[1]));

      expect(Math.max(...listed)).toBe(declared);
      expect(new Set(listed).size).toBe(declared);
      expect(Math.max(...used)).toBeLessThanOrEqual(declared);
    },
  );

  it.each(all.filter((script) => !/-\d+\.lua$/.test(script.file)).map((script) => [script.file, script.text]))(
    '%s, named without a key count, says in its header why',
    (_file, text) => {
      expect(header(text)).toMatch(/no -<numKeys> suffix/);
    },
  );

  it('shared Lua is included, never copied: no two scripts write the same two lines of substance', () => {
    // Calling an include's function the same way is how sharing looks, not a copy.
    const shared = includes().flatMap(({ text }) => [...text.matchAll(/local function (\w+)/g)].map((match) => match[1]));
    const callsShared = new RegExp(`\\b(${shared.join('|')})\\(`);
    // A line shorter than this (`end`, `if ARGV[3] == '' then`) is too plain to tell a copy by.
    const substance = (line: string): boolean => line.length >= 30 && !callsShared.test(line);
    const places = new Map<string, Set<string>>();
    for (const script of all) {
      const lines = code(script.text)
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '');
      for (let i = 0; i + 1 < lines.length; i++) {
        if (!substance(lines[i]) || !substance(lines[i + 1])) continue;
        const pair = `${lines[i]}\n${lines[i + 1]}`;
        places.set(pair, (places.get(pair) ?? new Set()).add(script.file));
      }
    }
    const copied = [...places].filter(([, files]) => files.size > 1).map(([pair, files]) => `${[...files].join(', ')}:\n${pair}`);

    expect(copied).toEqual([]);
  });

  it('only includes/service-message.lua lays out a service message: every other script and include writes one through serviceMessage', () => {
    const layout = path.join('libs', 'event-store', 'src', 'lua', 'includes', 'service-message.lua');
    const files = [...all, ...includes()];
    const writers = files.filter((script) => /'pattern'|"pattern"/.test(code(script.text))).map((script) => script.file);

    expect(files.map((script) => script.file)).toContain(layout);
    expect(writers).toEqual([layout]);
  });

  it("the README says where the ready membership the queue library's scripts include lives", () => {
    const membership = path.join('libs', 'event-store', 'src', 'lua', 'includes', 'ready-membership.lua');
    const includers = all.filter((script) => script.text.includes('--- @include "@event-store/includes/ready-membership"')).map((script) => script.file);

    expect(includers).toContain(path.join('libs', 'mission-queue', 'src', 'lua', 'lease-ready-missions-8.lua'));
    expect(includes().map((include) => include.file)).toContain(membership);
    expect(flatDoc('README.md')).toContain('`libs/event-store/src/lua/includes/ready-membership.lua`');
  });

  it('no script returns a result code as a bare number: codes come from their TypeScript enum (CODE)', () => {
    const bare = all.filter((script) => /return\s*\{?\s*-?\d|results\[#results \+ 1\] = \d/.test(code(script.text))).map((script) => script.file);

    expect(bare).toEqual([]);
  });
});
