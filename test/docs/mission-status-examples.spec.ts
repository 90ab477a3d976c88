import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MISSION_STATUSES } from '@app/mission';

const ROOT = join(__dirname, '../..');

/** The files a reader copies mission-list addresses from: README, docs/*.md, the console's sources, as [path, text]. */
function sources(): [string, string][] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : walk(path);
      return /\.(ts|tsx|md)$/.test(entry.name) ? [path] : [];
    });
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(ROOT, 'docs', name));
  return [join(ROOT, 'README.md'), ...docs, ...walk(join(ROOT, 'console', 'src'))].map((path) => [path, readFileSync(path, 'utf8')]);
}

describe('mission list addresses in the docs and the console', () => {
  it('given an example filtering missions by status (#/missions?status=…, /api/missions?status=…), then it names a status the API takes', () => {
    const examples = sources().flatMap(([path, text]) =>
      [...text.matchAll(/missions\?(?:[^\s`'")]*&)?status=([A-Za-z_]+)/g)].map((match) => ({ file: path.slice(ROOT.length + 1), status: match[1] })),
    );
    // The README's console example among them, or the pattern has stopped finding any.
    expect(examples.map(({ file }) => file)).toContain('README.md');
    // "failed" was one: the API answers it with a 400 listing the statuses.
    expect(examples.filter(({ status }) => !(MISSION_STATUSES as readonly string[]).includes(status))).toEqual([]);
  });
});
