import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { SERVICE_NAMES } from '@app/messages';
import { buildState } from '../../../scripts/build-stamp';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface BuildResult {
  built: boolean;
  ms: number;
}

/** Runs `npm run build` once when dist/ is missing or stale (the same decision `npm start` makes: scripts/build-stamp.js). */
export function ensureBuilt(log: (line: string) => void = () => undefined): BuildResult {
  const state = buildState(REPO_ROOT);
  if (!state.stale) return { built: false, ms: 0 };
  log(`${state.reason}: running npm run build`);
  const started = Date.now();
  const result = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: 'pipe' });
  if (result.status !== 0) {
    throw new Error(`npm run build failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  for (const service of SERVICE_NAMES) {
    const entry = path.join(REPO_ROOT, 'dist', 'apps', service, 'src', 'main.js');
    if (!existsSync(entry)) throw new Error(`npm run build succeeded but ${entry} is missing`);
  }
  return { built: true, ms: Date.now() - started };
}
