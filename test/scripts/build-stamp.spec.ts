import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SERVICE_NAMES } from '@app/messages';
import { beginBuild, buildState, endBuild, ENTRIES, STAMP } from '../../scripts/build-stamp';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** A repository in miniature: a few sources, and a "build" that writes every entry point. */
function fakeRepo(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'build-stamp-'));
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };
  write('package.json', '{}\n');
  write('tsconfig.json', '{}\n');
  write('apps/intake/src/main.ts', 'export {};\n');
  write('libs/event-store/src/lua/append.lua', 'return 1\n');
  write('libs/event-store/src/store.spec.ts', 'it.todo;\n');
  write('scripts/start.ts', 'export {};\n');
  return root;
}

function build(root: string): void {
  beginBuild(root);
  for (const entry of ENTRIES) {
    mkdirSync(path.dirname(path.join(root, entry)), { recursive: true });
    writeFileSync(path.join(root, entry), '');
  }
  endBuild(root);
}

/** A later modification time, as an editor's save would give, without waiting for the clock. */
function touch(root: string, file: string): void {
  const later = new Date(Date.now() + 60_000);
  utimesSync(path.join(root, file), later, later);
}

describe('the build staleness decision (scripts/build-stamp.js)', () => {
  let root: string;

  beforeEach(() => {
    root = fakeRepo();
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('the service entries it checks are those of SERVICE_NAMES, the one list of the services', () => {
    const services = ENTRIES.flatMap((entry) => /^dist\/apps\/([^/]+)\/src\/main\.js$/.exec(entry)?.slice(1) ?? []);
    expect(services).toEqual([...SERVICE_NAMES]);
  });

  it('given no dist/, then it is stale', () => {
    expect(buildState(root)).toEqual({ stale: true, reason: expect.stringMatching(/dist\/ has no dist\/apps\/intake/) });
  });

  it('given a finished build of the current sources, then it is fresh', () => {
    build(root);
    expect(buildState(root)).toEqual({ stale: false, reason: 'dist/ is up to date' });
  });

  it.each(['apps/intake/src/main.ts', 'libs/event-store/src/lua/append.lua', 'scripts/start.ts', 'tsconfig.json', 'package.json'])(
    'given %s changed after the build, then it is stale',
    (file) => {
      build(root);
      touch(root, file);
      expect(buildState(root)).toEqual({ stale: true, reason: 'the sources changed since the last build' });
    },
  );

  it('given a spec file changed, then it stays fresh (specs never reach dist/)', () => {
    build(root);
    touch(root, 'libs/event-store/src/store.spec.ts');
    expect(buildState(root).stale).toBe(false);
  });

  it('given a source added or deleted, then it is stale, even with an old modification time', () => {
    build(root);
    writeFileSync(path.join(root, 'libs/event-store/src/extra.ts'), 'export {};\n');
    utimesSync(path.join(root, 'libs/event-store/src/extra.ts'), new Date(0), new Date(0));
    expect(buildState(root).stale).toBe(true);

    build(root);
    unlinkSync(path.join(root, 'libs/event-store/src/extra.ts'));
    expect(buildState(root).stale).toBe(true);
  });

  it('given a source edited while the build ran, then the build that finished counts as stale', () => {
    beginBuild(root);
    touch(root, 'apps/intake/src/main.ts');
    for (const entry of ENTRIES) {
      mkdirSync(path.dirname(path.join(root, entry)), { recursive: true });
      writeFileSync(path.join(root, entry), '');
    }
    endBuild(root);
    expect(buildState(root).stale).toBe(true);
  });

  it('given a build that failed after it began, then no stamp is left and it is stale', () => {
    build(root);
    beginBuild(root);
    expect(buildState(root)).toEqual({ stale: true, reason: 'dist/ has no record of a finished build' });
  });

  it('given an entry point deleted from dist/, then it is stale', () => {
    build(root);
    unlinkSync(path.join(root, ENTRIES[ENTRIES.length - 1]));
    expect(buildState(root).stale).toBe(true);
  });

  /** The script as `npm start` runs it, in the miniature repository, whose build counts its runs (after `pauseMs`). */
  function installFakeBuild(pauseMs = 0): void {
    mkdirSync(path.join(root, 'scripts'), { recursive: true });
    copyFileSync(path.join(REPO_ROOT, 'scripts', 'build-stamp.js'), path.join(root, 'scripts', 'build-stamp.js'));
    writeFileSync(
      path.join(root, 'fake-build.js'),
      `const fs = require('fs'), path = require('path');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${pauseMs});
for (const entry of ${JSON.stringify(ENTRIES)}) { fs.mkdirSync(path.dirname(entry), { recursive: true }); fs.writeFileSync(entry, ''); }
fs.appendFileSync('builds.log', 'built\\n');`,
    );
    writeFileSync(
      path.join(root, 'package.json'),
      JSON.stringify({ scripts: { build: 'node scripts/build-stamp.js begin && node fake-build.js && node scripts/build-stamp.js end' } }),
    );
  }
  const ensure = () => spawnSync(process.execPath, ['scripts/build-stamp.js', 'ensure'], { cwd: root, encoding: 'utf8' });
  const ensureAsync = () =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['scripts/build-stamp.js', 'ensure'], { cwd: root });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (status) => resolve({ status, stderr }));
    });

  it('`ensure` runs `npm run build` when stale and not again when fresh, and never writes to stdout', () => {
    installFakeBuild();
    const first = ensure();
    expect(first).toMatchObject({ status: 0, stdout: '', stderr: expect.stringMatching(/^build: dist\/ has no .*; running npm run build\n$/) });
    const second = ensure();
    expect(second).toMatchObject({ status: 0, stdout: '', stderr: '' });
    expect(readFileSync(path.join(root, 'builds.log'), 'utf8')).toBe('built\n');
    expect(readFileSync(path.join(root, STAMP), 'utf8')).toMatch(/^[0-9a-f]{40}\n$/);
  });

  it('given a build that fails with exit code 2 (tsc on an error in the sources), then `ensure` exits 1, which is no usage error', () => {
    installFakeBuild();
    writeFileSync(path.join(root, 'fake-build.js'), `process.stderr.write('src/main.ts(1,7): error TS2322\\n'); process.exit(2);`);
    // It exited 2, which npm start, the demo, ctl and replay document as bad usage.
    expect(ensure()).toMatchObject({
      status: 1,
      stdout: '',
      stderr: expect.stringMatching(/error TS2322\nbuild: npm run build failed \(exit code 2\); see its errors above\n$/),
    });
  });

  it('given two `ensure` at once on a stale tree, then one builds, the other waits for it and does not build again', async () => {
    installFakeBuild(500);
    const results = await Promise.all([ensureAsync(), ensureAsync()]);
    expect(results.map((result) => result.status)).toEqual([0, 0]);
    expect(readFileSync(path.join(root, 'builds.log'), 'utf8')).toBe('built\n');
    expect(buildState(root).stale).toBe(false);
    expect(existsSync(path.join(root, '.build.lock'))).toBe(false);
  });

  it('given a lock left by a process that died, then `ensure` takes it over and builds', () => {
    installFakeBuild();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(path.join(root, '.build.lock'), `${dead}\n`);
    expect(ensure()).toMatchObject({ status: 0, stdout: '' });
    expect(readFileSync(path.join(root, 'builds.log'), 'utf8')).toBe('built\n');
  });
});
