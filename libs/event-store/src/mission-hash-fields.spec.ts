import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { MISSION_HASH_FIELDS } from './mission-hash-fields';

const root = join(__dirname, '..', '..', '..');

/** Every Lua file of the libraries and apps, with its comments removed. */
function luaSources(): { file: string; code: string }[] {
  const found: { file: string; code: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.lua')) {
        const code = readFileSync(path, 'utf8')
          .replace(/--\[\[[\s\S]*?\]\]/g, '')
          .replace(/--.*$/gm, '');
        found.push({ file: relative(root, path), code });
      }
    }
  };
  for (const top of ['libs', 'apps']) walk(join(root, top));
  return found;
}

describe('mission hash fields', () => {
  const sources = luaSources();
  const fieldNames = new Set<string>(Object.values(MISSION_HASH_FIELDS));

  it('finds the Lua scripts', () => {
    expect(sources.map((source) => source.file)).toContain(join('libs', 'event-store', 'src', 'lua', 'append-mission-events.lua'));
  });

  it('no Lua script spells a mission hash field: they read it from MISSION_FIELDS, declared in TypeScript', () => {
    const spelled = sources.flatMap(({ file, code }) =>
      [...code.matchAll(/'([^'\n]*)'|"([^"\n]*)"/g)]
        .map((match) => match[1] ?? match[2])
        .filter((text) => fieldNames.has(text))
        .map((text) => `${file}: '${text}'`),
    );

    expect(spelled).toEqual([]);
  });

  it('every MISSION_FIELDS name a Lua script uses is declared', () => {
    const declared = new Set(Object.keys(MISSION_HASH_FIELDS));
    const unknown = sources.flatMap(({ file, code }) =>
      [...code.matchAll(/MISSION_FIELDS\.(\w+)/g)]
        .map((match) => match[1])
        .filter((name) => !declared.has(name))
        .map((name) => `${file}: ${name}`),
    );

    expect(unknown).toEqual([]);
  });
});
