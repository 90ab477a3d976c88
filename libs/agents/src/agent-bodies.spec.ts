import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { UpdateAgentBody } from './agent-bodies';

/** The problems class-validator finds in a change's skills, as the 400 lists them. */
function skillProblems(skills: unknown): string[] {
  return validateSync(plainToInstance(UpdateAgentBody, { skills }))
    .filter((error) => error.property === 'skills')
    .flatMap((error) => Object.values(error.constraints ?? {}));
}

describe('an agent body: skills', () => {
  it('given none, then it asks for at least one skill, in a sentence', () => {
    expect(skillProblems([])).toEqual(['skills must name at least one skill']);
  });

  it('given more than 30, then it names the limit, in a sentence', () => {
    expect(skillProblems(Array.from({ length: 31 }, (_, i) => `skill_${i}`))).toEqual(['skills must name at most 30 skills']);
  });

  it('given different snake_case skills, then nothing to say', () => {
    expect(skillProblems(['german', 'front_desk'])).toEqual([]);
  });
});
