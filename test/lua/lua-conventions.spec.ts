import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Every Lua script (not an include) of the libraries and apps: any `lua` directory under <project>/src, e.g. src/subjects/lua. */
function scripts(): { file: string; text: string }[] {
  const found: { file: string; text: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const sub = path.join(dir, entry.name);
      if (entry.name !== 'lua') {
        walk(sub);
        continue;
      }
      for (const name of readdirSync(path.join(REPO_ROOT, sub)).filter((file) => file.endsWith('.lua'))) {
        found.push({ file: path.join(sub, name), text: readFileSync(path.join(REPO_ROOT, sub, name), 'utf8') });
      }
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

/** The text of every Lua include: any file under an `includes` directory of a `lua` directory. */
function includes(): string[] {
  return ['apps', 'libs'].flatMap((top) =>
    readdirSync(path.join(REPO_ROOT, top), { recursive: true, encoding: 'utf8' })
      .filter((file) => /(^|\/)lua\/includes\/.*\.lua$/.test(file))
      .map((file) => readFileSync(path.join(REPO_ROOT, top, file), 'utf8')),
  );
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
    const shared = includes().flatMap((text) => [...text.matchAll(/local function (\w+)/g)].map((match) => match[1]));
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

  it('no script returns a result code as a bare number: codes come from their TypeScript enum (CODE)', () => {
    const bare = all.filter((script) => /return\s*\{?\s*-?\d|results\[#results \+ 1\] = \d/.test(code(script.text))).map((script) => script.file);

    expect(bare).toEqual([]);
  });
});
