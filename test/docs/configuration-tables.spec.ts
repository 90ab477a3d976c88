import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { environmentVariableNames } from '@app/config';
import { CONNECTOR_PORT_VARIABLE, PORT_VARIABLES } from '@app/runtime';

const ROOT = join(__dirname, '..', '..');

/** The variable names in the first column of the markdown table that follows `heading`. */
function tableNames(file: string, heading: string): string[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`${file} has no heading "${heading}"`);
  const names: string[] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('|')) {
      inTable = true;
      const firstCell = line.split('|')[1] ?? '';
      names.push(...[...firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]));
    } else if (inTable || line.startsWith('#')) {
      break;
    }
  }
  return names;
}

/** Read by the launcher (npm start, the demo), not by the services. */
const LAUNCHER_ONLY = [...Object.values(PORT_VARIABLES).filter((name) => name !== 'PORT'), CONNECTOR_PORT_VARIABLE];

describe('the configuration tables in the docs', () => {
  const configured = environmentVariableNames().sort();

  it.each([
    ['README.md', '## Configuration'],
    ['docs/operations.md', '## Environment variables'],
  ])('given %s, then its table names every variable libs/config reads, and nothing else', (file, heading) => {
    const documented = tableNames(file, heading);
    expect([...new Set(documented)].length).toBe(documented.length);
    expect(documented.filter((name) => !LAUNCHER_ONLY.includes(name)).sort()).toEqual(configured);
  });

  it.each(['README.md', 'docs/operations.md'])(
    "given %s, then its PORT row says each service's port variable under the launcher, npm run start:<service> included",
    (file) => {
      const row = readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .find((line) => line.startsWith('| `PORT` |'));
      expect(row).toContain('npm run start:<service>');
      expect(row).toMatch(/PORT=\d+ npm run start:orchestrator` listens on \d+/);
      if (file === 'docs/operations.md') for (const name of Object.values(PORT_VARIABLES)) expect(row).toContain(`\`${name}\``);
    },
  );
});
