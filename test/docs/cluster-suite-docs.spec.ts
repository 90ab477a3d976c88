import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The spec files the cluster suite leaves out, as jest.cluster.config.js lists them. */
function leftOutOfClusterSuite(): string[] {
  // The config is CommonJS, as Jest reads it; its path is only known at run time.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require(join(ROOT, 'jest.cluster.config.js')) as { testPathIgnorePatterns: string[] };
  return config.testPathIgnorePatterns.filter((pattern) => pattern.endsWith('.spec.ts')).map((pattern) => pattern.replace('<rootDir>/', ''));
}

describe('the docs of the cluster suite', () => {
  it('given the specs jest.cluster.config.js leaves out, then docs/operations.md names each, and both docs say how many', () => {
    const leftOut = leftOutOfClusterSuite();
    expect(leftOut.length).toBeGreaterThan(0);
    const operations = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8').replace(/\s+/g, ' ');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    for (const spec of leftOut) expect(operations).toContain(`\`${spec}\``);
    const count = ['', 'one', 'two', 'three', 'four', 'five'][leftOut.length];
    expect(operations).toContain(`except ${count} specs that are about one Redis server`);
    expect(readme).toMatch(new RegExp(`${count} single-server specs are left out`, 'i'));
  });
});
