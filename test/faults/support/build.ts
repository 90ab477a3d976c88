import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Sources whose change makes dist/ stale; spec files never reach dist/. */
const SOURCE_DIRS = ['apps', 'libs'];
const SOURCE_FILE = /\.(ts|lua|md|json)$/;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules') continue;
      newest = Math.max(newest, newestSource(full));
    } else if (SOURCE_FILE.test(entry.name) && !entry.name.endsWith('.spec.ts')) {
      newest = Math.max(newest, statSync(full).mtimeMs);
    }
  }
  return newest;
}

/**
 * The build is incremental (dist/.tsbuildinfo), so an unchanged main.js keeps its old mtime: the
 * build's own stamp is the newer of main.js and the build info, which every build rewrites.
 */
function buildStamp(): number {
  const main = path.join(REPO_ROOT, 'dist', 'apps', 'intake', 'src', 'main.js');
  if (!existsSync(main)) return 0;
  const info = path.join(REPO_ROOT, 'dist', '.tsbuildinfo');
  return Math.max(statSync(main).mtimeMs, existsSync(info) ? statSync(info).mtimeMs : 0);
}

export interface BuildResult {
  built: boolean;
  ms: number;
}

/** Runs `npm run build` once when dist/ is missing or older than any source under apps/ or libs/. */
export function ensureBuilt(log: (line: string) => void = () => undefined): BuildResult {
  const stamp = buildStamp();
  const newest = Math.max(...SOURCE_DIRS.map((dir) => newestSource(path.join(REPO_ROOT, dir))));
  if (stamp > 0 && stamp >= newest) return { built: false, ms: 0 };
  log(stamp === 0 ? 'dist/ is missing: running npm run build' : 'dist/ is older than the sources: running npm run build');
  const started = Date.now();
  const result = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: 'pipe' });
  if (result.status !== 0) {
    throw new Error(`npm run build failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  for (const service of ['intake', 'orchestrator', 'executor', 'evaluator']) {
    const entry = path.join(REPO_ROOT, 'dist', 'apps', service, 'src', 'main.js');
    if (!existsSync(entry)) throw new Error(`npm run build succeeded but ${entry} is missing`);
  }
  return { built: true, ms: Date.now() - started };
}
