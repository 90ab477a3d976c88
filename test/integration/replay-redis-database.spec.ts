import { deleteKeysByPrefix, testKeyPrefix, testRedis, redisUrl } from '@app/testing';
import { CliIo, EXIT_OK, EXIT_USAGE, runReplay } from '../../scripts/replay';

/** `replay <args>` in-process against `url` and `prefix`, its output captured. */
async function replayAt(url: string, prefix: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { KEY_PREFIX: prefix },
  };
  const code = await runReplay(['--redis-url', url, ...args], io);
  return { code, stdout, stderr };
}

/** The test Redis' URL with `path` as its database. */
function withDatabase(path: string): string {
  const url = new URL(redisUrl());
  url.pathname = path;
  return url.toString();
}

// ioredis reports a refused SELECT as an error event only and goes on in database 0: verify said
// OK of database 0's log, and purge --yes deleted database 0's keys, for a URL naming database 16.
describe('replay --redis-url naming a database', () => {
  const prefix = testKeyPrefix('replay-database');
  const database0 = testRedis();
  const database1 = testRedis({ db: 1 });
  let missing: string;

  beforeAll(async () => {
    const [, databases] = (await database0.config('GET', 'databases')) as [string, string];
    missing = databases;
  });

  beforeEach(async () => {
    await database0.set(`${prefix}in-0`, 'x');
    await database1.set(`${prefix}in-1`, 'x');
  });

  afterAll(async () => {
    await deleteKeysByPrefix(database0, prefix);
    await deleteKeysByPrefix(database1, prefix);
    await Promise.all([database0.quit(), database1.quit()]);
  });

  it('given a database the server does not have, then purge --yes refuses with exit 2, naming it and the answer, and database 0 keeps its keys', async () => {
    const run = await replayAt(withDatabase(`/${missing}`), prefix, 'purge', '--yes');

    expect(run.code).toBe(EXIT_USAGE);
    expect(run.stderr).toMatch(
      new RegExp(
        `^replay: --redis-url: Redis at \\S+ has no database ${missing} \\(SELECT ${missing}: ERR DB index is out of range\\), and the connection would use database 0 instead; `,
      ),
    );
    expect(run.stdout).toBe('');
    expect(await database0.exists(`${prefix}in-0`)).toBe(1);
  });

  it('given a database the server does not have, then verify refuses with exit 2 instead of reporting on database 0', async () => {
    expect(await replayAt(withDatabase(`/${missing}`), prefix, 'verify')).toMatchObject({ code: EXIT_USAGE, stdout: '' });
  });

  it('given a database that is no number, then it is bad usage (2) in one line, not a stack trace', async () => {
    expect(await replayAt(withDatabase('/abc'), prefix, 'verify')).toEqual({
      code: EXIT_USAGE,
      stdout: '',
      stderr:
        'replay: --redis-url names a database that is not a whole number; give its number as the path, e.g. redis://host:6379/2, or none for database 0\n',
    });
  });

  it('given database 1, then the command works on database 1 only', async () => {
    expect(await replayAt(withDatabase('/1'), prefix, 'purge', '--yes')).toMatchObject({ code: EXIT_OK, stdout: `Deleted 1 key under prefix "${prefix}".\n` });

    expect(await database1.exists(`${prefix}in-1`)).toBe(0);
    expect(await database0.exists(`${prefix}in-0`)).toBe(1);
  });
  // The Cluster client ignores the URL: a command meant for database 3 ran on the cluster's database 0.
  it('given --cluster-nodes and a URL naming a database other than 0, then the command refuses with exit 2 before it connects', async () => {
    const refusal =
      'replay: --redis-url (or REDIS_URL) names database 3, but --cluster-nodes (or REDIS_CLUSTER_NODES) is given and a Redis Cluster has database 0 only; ' +
      'drop the database from the URL\n';
    // No cluster listens there: the refusal comes before any connection.
    const seeds = ['--cluster-nodes', '127.0.0.1:1'];
    expect(await replayAt(withDatabase('/3'), prefix, ...seeds, 'purge', '--yes')).toEqual({ code: EXIT_USAGE, stdout: '', stderr: refusal });
    let stderr = '';
    const io: CliIo = {
      stdout: { write: () => undefined },
      stderr: { write: (text: string) => (stderr += text) },
      env: { KEY_PREFIX: prefix, REDIS_URL: withDatabase('/3') },
    };
    expect(await runReplay([...seeds, 'verify'], io)).toBe(EXIT_USAGE);
    expect(stderr).toBe(refusal);
    expect(await database0.exists(`${prefix}in-0`)).toBe(1);
  });
});
