import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** A fixtures file, in a fresh temp dir the test removes, with the first fixture mission alone: a demo run that stays short. */
export function oneMissionFixtures(dirPrefix: string): { dir: string; fixtures: string } {
  const dir = mkdtempSync(path.join(tmpdir(), dirPrefix));
  const fixtures = path.join(dir, 'one-mission.json');
  const all = JSON.parse(readFileSync(path.join(ROOT, 'fixtures', 'odoo_missions_mock.json'), 'utf8')) as unknown[];
  writeFileSync(fixtures, JSON.stringify(all.slice(0, 1)));
  return { dir, fixtures };
}
