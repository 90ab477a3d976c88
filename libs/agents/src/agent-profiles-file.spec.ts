import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@app/config';
import { readAgentProfiles } from './agent-profiles-file';

const FIXTURE = join(__dirname, '..', '..', '..', 'fixtures', 'agents.json');

const mila = {
  id: 'agent-mila',
  name: 'Mila – Night Desk',
  skills: ['guest_communication', 'german'],
  capacity: 3,
  credits: 100,
  model: 'gpt-4o-mini',
  systemPrompt: 'You are Mila, night desk agent.',
};

describe('readAgentProfiles (the agents file a fresh registry is seeded with)', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'agents-file-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const fileWith = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const problemsOf = (file: string): string[] => {
    try {
      readAgentProfiles(file);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('expected a ConfigError');
  };

  it('given fixtures/agents.json, then every agent in it reads as it is', () => {
    expect(readAgentProfiles(FIXTURE)).toEqual(JSON.parse(readFileSync(FIXTURE, 'utf8')));
  });

  it('given entries that break the rules of POST /api/agents, then one ConfigError names each problem by entry, and nothing is read', () => {
    const { skills: _left, ...withoutSkills } = mila;
    const file = fileWith(
      'bad.json',
      JSON.stringify([
        mila,
        { ...mila, id: 'agent-two', capacity: '3' },
        { ...withoutSkills, id: 'agent-three' },
        { ...mila, id: 'agent-four', colour: 'blue' },
        { ...mila },
        'agent-five',
        { ...mila, id: 'Agent Six' },
      ]),
    );
    expect(problemsOf(file)).toEqual([
      `${file}: entry 2 (agent-two): capacity must be an integer number`,
      `${file}: entry 2 (agent-two): capacity must not be less than 1`,
      `${file}: entry 2 (agent-two): capacity must not be greater than 1000`,
      `${file}: entry 3 (agent-three): skills is required`,
      `${file}: entry 4 (agent-four): property colour should not exist`,
      `${file}: entry 5 (agent-mila): id agent-mila is listed before`,
      `${file}: entry 6: must be an object`,
      `${file}: entry 7 (Agent Six): id must be 2 to 64 lowercase letters, digits or dashes`,
    ]);
  });

  it('given a file that is missing, not JSON, or no array, then a ConfigError says which', () => {
    expect(problemsOf(join(dir, 'missing.json'))[0]).toMatch(/missing\.json: cannot read the agents file \(ENOENT/);
    expect(problemsOf(fileWith('broken.json', '[{"id": '))[0]).toMatch(/broken\.json: the agents file is not JSON/);
    expect(problemsOf(fileWith('object.json', JSON.stringify({ agents: [mila] })))).toEqual([
      `${join(dir, 'object.json')}: the agents file must be a JSON array of agents`,
    ]);
  });
});
