#!/usr/bin/env node
// Whether dist/ was built from the sources as they are now, so `npm start`, the demo and the CLIs
// build only when something changed. Plain JavaScript: it runs before there is a build.
//
//   node scripts/build-stamp.js begin    (first step of `npm run build`) note the sources being built
//   node scripts/build-stamp.js end      (last step, after a successful build) the build is of those
//   node scripts/build-stamp.js ensure   run `npm run build` unless dist/ is fresh
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
/** Directories whose files go into the build (or are copied beside it: Lua scripts, prompts; the console's bundle). */
const SOURCE_DIRS = ['apps', 'libs', 'scripts', 'console'];
/** Files at the root that change what the build produces. */
const ROOT_FILE = /^(tsconfig.*\.json|package(-lock)?\.json)$/;
/** What the commands run; any of them missing means there is no usable build. */
const ENTRIES = [
  // SERVICE_NAMES (libs/messages/src/services.ts), which plain JavaScript cannot read before a build;
  // test/scripts/build-stamp.spec.ts holds the two equal.
  ...['intake', 'orchestrator', 'executor', 'evaluator'].map((service) => `dist/apps/${service}/src/main.js`),
  ...['start', 'demo', 'replay', 'ctl'].map((script) => `dist/scripts/${script}.js`),
  // The operator console the intake serves (console/, bundled by Vite).
  'dist/console/index.html',
];
const STAMP = 'dist/.build-stamp';
const PENDING = 'dist/.build-stamp.pending';

function listSources(root, dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(path.join(root, dir), { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const relative = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') listSources(root, relative, out);
    } else if (!entry.name.endsWith('.spec.ts')) {
      // Specs never reach dist/ (tsconfig.build.json excludes them).
      out.push(relative);
    }
  }
}

/**
 * Path, size and modification time of every source file, hashed: any edit, new file, deleted file
 * or checkout of another version changes it, whichever way the clock went.
 */
function sourceFingerprint(root = ROOT) {
  const files = fs.readdirSync(root).filter((name) => ROOT_FILE.test(name));
  for (const dir of SOURCE_DIRS) listSources(root, dir, files);
  const hash = createHash('sha1');
  for (const file of files.sort()) {
    const stat = fs.statSync(path.join(root, file));
    hash.update(`${file}\t${stat.size}\t${stat.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

/** { stale, reason }: stale when an entry is missing, no build finished, or the sources differ from the last build's. */
function buildState(root = ROOT) {
  const missing = ENTRIES.filter((entry) => !fs.existsSync(path.join(root, entry)));
  if (missing.length > 0) return { stale: true, reason: `dist/ has no ${missing[0]}` };
  const stamp = readText(path.join(root, STAMP));
  if (stamp === undefined) return { stale: true, reason: 'dist/ has no record of a finished build' };
  if (stamp !== sourceFingerprint(root)) return { stale: true, reason: 'the sources changed since the last build' };
  return { stale: false, reason: 'dist/ is up to date' };
}

/**
 * Noted before compiling, so that a file edited while the build runs counts as changed afterwards;
 * the old stamp goes first, so a build that fails leaves no stamp.
 */
function beginBuild(root = ROOT) {
  fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
  fs.rmSync(path.join(root, STAMP), { force: true });
  fs.writeFileSync(path.join(root, PENDING), `${sourceFingerprint(root)}\n`);
}

function endBuild(root = ROOT) {
  markBinsExecutable(root);
  fs.renameSync(path.join(root, PENDING), path.join(root, STAMP));
}

/**
 * tsc writes every file 644: package.json's bins (brain-replay, brain-ctl) could not be run as
 * `./dist/scripts/replay.js`, nor by `npm link`'s links to them, which run the file itself.
 */
function markBinsExecutable(root) {
  const { bin = {} } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  for (const file of Object.values(bin)) {
    const target = path.join(root, file);
    fs.chmodSync(target, fs.statSync(target).mode | 0o111);
  }
}

/**
 * Builds when stale; everything goes to stderr, so a command's own stdout (replay --json) stays clean.
 * Under a lock: two commands started at once (two test workers, `npm start` in two terminals) would
 * otherwise build into the same dist/ together, and one would find the other's stamp gone. The one
 * that waited looks again and finds the build done.
 */
function ensureBuilt(root = ROOT) {
  if (!buildState(root).stale) return 0;
  return withBuildLock(root, () => {
    const state = buildState(root);
    if (!state.stale) return 0;
    process.stderr.write(`build: ${state.reason}; running npm run build\n`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const result = spawnSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
    if (result.error) throw result.error;
    if (result.status === 0) return 0;
    // tsc's own exit code for errors in the sources is 2, which the commands behind `ensure` keep for bad usage.
    process.stderr.write(
      `build: npm run build failed (${result.status === null ? `signal ${result.signal}` : `exit code ${result.status}`}); see its errors above\n`,
    );
    return 1;
  });
}

const LOCK = '.build.lock';
const LOCK_POLL_MS = 200;

/** Runs `work` holding `<root>/.build.lock` (it names the holder's pid); a lock whose holder has died is taken over. */
function withBuildLock(root, work) {
  const lock = path.join(root, LOCK);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (!holderAlive(readText(lock))) fs.rmSync(lock, { force: true });
      else Atomics.wait(pause, 0, 0, LOCK_POLL_MS);
    }
  }
  try {
    return work();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function holderAlive(pidText) {
  const pid = Number(pidText);
  // A lock being written this very moment has no pid yet: its writer is alive.
  if (pidText === undefined || pidText === '') return pidText === '';
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

module.exports = { ENTRIES, STAMP, buildState, beginBuild, endBuild, ensureBuilt, sourceFingerprint, withBuildLock };

if (require.main === module) {
  const commands = { begin: beginBuild, end: endBuild, ensure: ensureBuilt };
  const command = commands[process.argv[2]];
  if (!command) {
    process.stderr.write('usage: node scripts/build-stamp.js begin|end|ensure\n');
    process.exit(2);
  }
  process.exitCode = command() ?? 0;
}
