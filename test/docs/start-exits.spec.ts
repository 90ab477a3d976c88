import { launcherCheckedVariables, startExitCodesHelp } from '../../scripts/launcher';
import { flatDoc as flat } from '../support/docs-text';

/** The variables a text names, each in backticks or as a bare NAME, inside the parentheses after `opening`. */
function namedAfter(text: string, opening: string): string[] {
  const start = text.indexOf(opening);
  expect(start).toBeGreaterThanOrEqual(0);
  const list = text.slice(start + opening.length, text.indexOf(')', start));
  return [...new Set(list.match(/\b[A-Z][A-Z0-9_]+\b/g))].filter((name) => name !== 'ODOO_URL');
}

describe("npm start's exit 78 in the docs", () => {
  // Both lists left out KEY_PREFIX and REDIS_CLUSTER_NODES (the README REDIS_URL too), which the launcher refuses with 78.
  it('given the variables the launcher refuses itself, then the README and --help list exactly those as its exit 78', () => {
    const variables = launcherCheckedVariables();
    expect(variables).toEqual(expect.arrayContaining(['PORT', 'CONNECTOR_PORT', 'KEY_PREFIX', 'LOG_FORMAT', 'REDIS_URL', 'REDIS_CLUSTER_NODES']));
    const readme = flat('README.md');
    expect(readme).toContain("`npm start`'s exit codes (also in `--help`)");
    expect(namedAfter(readme.slice(readme.indexOf("`npm start`'s exit codes")), '78 a bad variable, before anything starts (')).toEqual(variables);
    expect(namedAfter(startExitCodesHelp().replace(/\s+/g, ' '), '78 a bad variable, before anything starts (')).toEqual(variables);
  });
});
