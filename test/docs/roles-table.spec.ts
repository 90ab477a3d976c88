import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const INTAKE = join(__dirname, '../../apps/intake/src');
const OPERATIONS = readFileSync(join(__dirname, '../../docs/operations.md'), 'utf8');

/** The intake's controllers (not specs), as [path, text]. */
function controllers(dir: string): [string, string][] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry): [string, string][] => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return controllers(path);
    return entry.name.endsWith('.controller.ts') ? [[path, readFileSync(path, 'utf8')]] : [];
  });
}

describe('docs/operations.md, "API keys and roles"', () => {
  const operatorRow = OPERATIONS.split('\n').find((line) => line.startsWith('| `operator` |')) ?? '';

  it('given every intake controller with a route only operators may call, then the operator row of the roles table names its path', () => {
    const operatorOnly = controllers(INTAKE)
      .filter(([, text]) => text.includes("@RequiresRole('operator')"))
      .map(([, text]) => /@Controller\('([^']+)'\)/.exec(text)?.[1]);
    expect(operatorOnly).toEqual(expect.arrayContaining(['api/subjects', 'api/retention']));
    for (const path of operatorOnly) expect({ path, named: operatorRow.includes(`/${path}`) }).toEqual({ path, named: true });
  });
});
