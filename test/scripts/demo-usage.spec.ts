import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { findFreePort } from '@app/redis';
import { ensureBuilt } from '../../scripts/build-stamp';
import { flatDoc } from '../support/docs-text';

/**
 * How the demo and npm start end on bad usage and bad variables, before they start anything: as
 * processes from dist/ (built here when stale), since the exit code is what a script sees.
 */
const ROOT = path.resolve(__dirname, '..', '..');

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function runToEnd(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Ended> {
  const child: ChildProcess = spawn(process.execPath, [path.join('dist', 'scripts', script), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe('the demo (and npm start) on bad usage and bad variables', () => {
  // No Redis is reached: each of these ends before the demo resolves one.
  const env = (): NodeJS.ProcessEnv => {
    const { KEY_PREFIX: _unset, ...rest } = process.env;
    return { ...rest, REDIS_URL: 'redis://127.0.0.1:1', PORT: '', LOG_FORMAT: '' };
  };

  beforeAll(() => {
    expect(ensureBuilt(ROOT)).toBe(0);
  }, 180_000);

  it.each([
    [['--bogus'], "error: unknown option '--bogus'"],
    [['--timeout', 'abc'], "error: option '--timeout <s>' argument 'abc' is invalid. must be a positive number of seconds"],
    [['--port', '99999'], "error: option '--port <n>' argument '99999' is invalid. must be a port from 1 to 65535"],
    // Taken by Number(): the demo listened on port 16, and waited 0x10 = 16 s.
    [['--port', '0x10'], "error: option '--port <n>' argument '0x10' is invalid. must be a port from 1 to 65535"],
    [['--timeout', '1e3'], "error: option '--timeout <s>' argument '1e3' is invalid. must be a positive number of seconds"],
  ])('given bad usage (%j), then it says so and exits 2, as npm start and the CLIs do, not 1 as a mission gone wrong', async (args, message) => {
    const ended = await runToEnd('demo.js', args, env());

    expect(ended.code).toBe(2);
    expect(ended.stderr).toContain(message);
  });

  describe('given a --fixtures or --schedules file that does not read', () => {
    let dir: string;
    const file = (name: string) => path.join(dir, name);
    const notFound = (name: string) => `cannot read: ENOENT: no such file or directory, open '${file(name)}'`;

    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'demo-files-'));
      writeFileSync(file('prose.json'), 'not json at all\n');
      writeFileSync(file('object.json'), '{}');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    // They named no file, a missing one ended 1 with a raw ENOENT, and the parser's excerpt of the text broke the line.
    it.each([
      ['--fixtures', 'not JSON', () => file('prose.json'), () => `not JSON: Unexpected token 'o', "not json at all\\n" is not valid JSON`],
      ['--fixtures', "''", () => '', () => 'is a directory'],
      ['--fixtures', 'a directory', () => dir, () => 'is a directory'],
      ['--fixtures', 'a missing file', () => file('missing.json'), () => notFound('missing.json')],
      ['--fixtures', 'not an array', () => file('object.json'), () => 'expected a JSON array of missions'],
      ['--schedules', 'not JSON', () => file('prose.json'), () => `not JSON: Unexpected token 'o', "not json at all\\n" is not valid JSON`],
      ['--schedules', 'a missing file', () => file('missing.json'), () => notFound('missing.json')],
    ])('given %s %s, then it names the option and the file on one line and exits 2, before starting anything', async (option, _what, given, reason) => {
      const ended = await runToEnd('demo.js', [option, given()], env());

      expect(ended).toEqual({ code: 2, stdout: '', stderr: `demo: ${option} ${JSON.stringify(given())}: ${reason()}\n` });
    });
  });

  it('given PORT=abc, then it names PORT and exits 78, as npm start does', async () => {
    const ended = await runToEnd('demo.js', [], { ...env(), PORT: 'abc' });

    expect(ended.code).toBe(78);
    expect(ended.stderr).toBe('demo: invalid configuration:\n  - PORT="abc" is not a port from 1 to 65535\n');
  });

  // It printed `launcher | Using the Redis already running at …` (or started a private redis-server) before the refusal.
  it.each([
    ['REDIS_URL given', 'redis://127.0.0.1:1'],
    ['REDIS_URL unset', ''],
  ])('given LOG_FORMAT=xml (%s), then it names LOG_FORMAT and exits 78, before resolving a Redis or starting a service', async (_case, redisUrl) => {
    const ended = await runToEnd('demo.js', [], { ...env(), REDIS_URL: redisUrl, LOG_FORMAT: 'xml' });

    expect(ended).toEqual({
      code: 78,
      stdout: '',
      stderr: 'demo: invalid configuration:\n  - LOG_FORMAT="xml": LOG_FORMAT must be one of the following values: json, pretty\n',
    });
  });

  it.each([['demo.js'], ['start.js']])(
    'given KEY_PREFIX set but empty, then %s refuses it as the services do, exit 78, before starting anything',
    async (script) => {
      const ended = await runToEnd(script, [], { ...env(), KEY_PREFIX: '' });

      // npm start used to print KEY_PREFIX=brain: and start services that refused it; the demo ran under demo:<time>:.
      expect(ended.code).toBe(78);
      expect(ended.stderr).toBe(
        `${script.replace('.js', '')}: invalid configuration:\n  - KEY_PREFIX="": set but empty; unset it for the default or give a value\n`,
      );
      expect(ended.stdout).not.toContain('Started ');
    },
  );

  // It said "REDIS_URL if set, else 127.0.0.1:6379…", leaving out the cluster, which wins over both (resolveRedis, README).
  it('given npm start --help, then it gives the Redis it uses in the order it picks one, as the README does', async () => {
    const ended = await runToEnd('start.js', ['--help'], env());

    expect(ended.code).toBe(0);
    expect(ended.stdout.replace(/\s+/g, ' ')).toContain(
      'with one shared Redis: the Redis Cluster of REDIS_CLUSTER_NODES if set, else REDIS_URL if set, else 127.0.0.1:6379 if it answers, else a private redis-server',
    );
    expect(flatDoc('README.md')).toContain(
      'Both use the Redis Cluster of `REDIS_CLUSTER_NODES` when set (and name its seeds in their lines), else Redis at `REDIS_URL` when set, else the Redis at `127.0.0.1:6379` when it answers, else they start a private `redis-server`',
    );
  });

  // --help said a free port is picked for a taken one; the README said only that --port defaults to PORT or 3000.
  it('given a taken port, then the README says what the demo does about it: the range it picks from and that it says which', async () => {
    const readme = flatDoc('README.md');
    const range =
      /`--port`, default `PORT` or 3000: a port that is taken, .* is replaced by a free one picked at random from (\d+)–(\d+), and for the intake the demo says which, `Port 3000 is taken; the intake listens on \d+ instead.`/.exec(
        readme,
      );
    expect(range).not.toBeNull();
    const [first, last] = [Number(range?.[1]), Number(range?.[2])];
    for (let draw = 0; draw < 20; draw++) {
      const port = await findFreePort();
      expect(port).toBeGreaterThanOrEqual(first);
      expect(port).toBeLessThanOrEqual(last);
    }
    expect((await runToEnd('demo.js', ['--help'], env())).stdout.replace(/\s+/g, ' ')).toContain("a free one is picked if it's taken");
  });

  it('given --help, then it lists the exit codes', async () => {
    const ended = await runToEnd('demo.js', ['--help'], env());

    expect(ended.code).toBe(0);
    expect(ended.stdout).toContain('2 bad usage');
    expect(ended.stdout).toContain('78 a bad variable');
  });

  // Both said a service that stopped on its own is 1 and Ctrl-C 130: a variable a service refused, or
  // no Redis, ended the demo 1, and Ctrl-C after the summary of --keep-running ended it 0.
  it('given --help and the README, then both say the demo ends on a service refusing to start as the service does, and what Ctrl-C after the summary gives', async () => {
    const help = (await runToEnd('demo.js', ['--help'], env())).stdout.replace(/\s+/g, ' ');
    const readme = flatDoc('README.md');

    expect(help).toContain('or one a service refuses before the system is ready (MAX_ATTEMPTS=abc');
    expect(readme).toContain('or one a service refuses before the system is ready: `MAX_ATTEMPTS=abc`');
    expect(help).toContain('69 the services cannot reach Redis at start (REDIS_URL)');
    expect(readme).toContain('69 the services cannot reach Redis at start (`REDIS_URL`)');
    expect(help).toContain("(with --keep-running, one after it ends the demo with the summary's code)");
    expect(readme).toContain("(with `--keep-running`, one after the summary ends the demo with the summary's code)");
  });

  // The README said that after a 78 or 69 nothing of the run was in Redis; with --split the services
  // that started before one refused had written ~19 keys under the KEY_PREFIX given.
  it('given --help and the README, then both say the services may have written keys before one refused, and what the demo does with them', async () => {
    const help = (await runToEnd('demo.js', ['--help'], env())).stdout.replace(/\s+/g, ' ');
    const readme = flatDoc('README.md');

    expect(help).toContain('the services that started before one refused (with --split most often) may have written keys');
    expect(readme).toContain('the services that started before one refused may have written keys, with `--split` most often');
    expect(readme).not.toContain('nothing of the run is in Redis');
  });
});
