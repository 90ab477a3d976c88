import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * A fixtures file, in a fresh temp dir the test removes, with one fixture mission alone (the first, or
 * the first `pick` takes): a demo run that stays short.
 */
export function oneMissionFixtures(
  dirPrefix: string,
  pick: (fixture: { payload?: { expectedOutcome?: string } }) => boolean = () => true,
): { dir: string; fixtures: string } {
  const dir = mkdtempSync(path.join(tmpdir(), dirPrefix));
  const fixtures = path.join(dir, 'one-mission.json');
  const all = JSON.parse(readFileSync(path.join(ROOT, 'fixtures', 'odoo_missions_mock.json'), 'utf8')) as { payload?: { expectedOutcome?: string } }[];
  writeFileSync(fixtures, JSON.stringify([all.find(pick)]));
  return { dir, fixtures };
}
