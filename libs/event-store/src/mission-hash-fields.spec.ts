import { join } from 'node:path';
import { projectSources } from '@app/testing';
import { MISSION_HASH_FIELDS } from './mission-hash-fields';

/** Every Lua file of the libraries and apps, with its comments removed. */
function luaSources(): { file: string; code: string }[] {
  return projectSources((name) => name.endsWith('.lua')).map(({ file, text }) => ({
    file,
    code: text.replace(/--\[\[[\s\S]*?\]\]/g, '').replace(/--.*$/gm, ''),
  }));
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
