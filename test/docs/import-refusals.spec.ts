import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_REFUSED } from '../../scripts/replay';

const OPERATIONS = readFileSync(join(__dirname, '../../docs/operations.md'), 'utf8');

/** The text of a `## title` section up to the next heading of that level, its line breaks made spaces. */
function section(title: string): string {
  const start = OPERATIONS.indexOf(`\n## ${title}\n`);
  const end = OPERATIONS.indexOf('\n## ', start + 1);
  return OPERATIONS.slice(start, end === -1 ? undefined : end).replace(/\s+/g, ' ');
}

describe('docs/operations.md, "Guest data in exports and imports"', () => {
  // The section said a file that is not whole is refused with exit code 2, which the CLI gives bad arguments.
  it('given every exit code the section names (each for an import refused, nothing written), then it is the code the CLI refuses an import with', () => {
    const text = section('Guest data in exports and imports');
    const codes = [...text.matchAll(/exit (?:code )?(\d+)/g)].map((match) => Number(match[1]));
    expect(codes.length).toBeGreaterThan(0);
    expect(codes).toEqual(codes.map(() => EXIT_REFUSED));
  });
});
