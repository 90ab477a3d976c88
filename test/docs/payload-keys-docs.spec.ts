import { KNOWN_PAYLOAD_KEYS, knownPayloadKeyProblems } from '@app/mission';
import { flatDoc } from '../support/docs-text';

describe('the payload keys in the README', () => {
  const readme = flatDoc('README.md');
  const passage = readme.slice(readme.indexOf('- **Payload keys.**'), readme.indexOf('- **Prompts.**'));

  it('given every key KNOWN_PAYLOAD_KEYS declares, then the Payload keys passage names it', () => {
    // A key added to the table without a word in the README was refused at create with no word on what it takes.
    expect(passage.length).toBeGreaterThan(0);
    for (const { path } of KNOWN_PAYLOAD_KEYS) expect({ path, named: passage.includes(`\`${path}\``) }).toEqual({ path, named: true });
  });

  it('given the messages the passage and the upgrade notes quote, then they are those a create gets', () => {
    const operations = flatDoc('docs/operations.md');
    const [safety] = knownPayloadKeyProblems({ safetyIssue: 'true' }, 'maintenance');
    const [floor] = knownPayloadKeyProblems({ minRate: '200' }, 'pricing');
    const quoted = (problem: string) => `${problem.slice(0, problem.indexOf(': '))}: …`;
    expect(passage).toContain(quoted(safety));
    expect(passage).toContain(quoted(floor));
    expect(operations).toContain(quoted(safety));
  });
});
