import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ensureBuilt } from '../../scripts/build-stamp';

const ROOT = path.resolve(__dirname, '..', '..');

describe("package.json's bins, once built", () => {
  const { bin } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };

  beforeAll(() => {
    expect(ensureBuilt(ROOT)).toBe(0);
  }, 300_000);

  // tsc wrote them 644: `./dist/scripts/replay.js` said "Permission denied", and so did `npm link`'s links.
  it.each(Object.entries(bin))('given the build, then %s runs as a program of its own and answers --help', (_name, file) => {
    const target = path.join(ROOT, file);
    expect(() => accessSync(target, constants.X_OK)).not.toThrow();
    const run = spawnSync(target, ['--help'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Usage: /);
  });
});
