import * as path from 'node:path';
import { KeyLayout, MissionStore } from '@app/event-store';
import { buildKnownLog, deleteKeysByPrefix, KNOWN_MISSIONS, redisUrl, testKeyPrefix, testRedis } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { EXIT_OK, EXIT_USAGE, EXIT_WRITE } from '../../scripts/replay';
import { appendBulkMissions } from '../support/bulk-missions';
import { outsideNpm, startReplay } from '../support/replay-process';
import { ProcessExit, runUntilExit } from '../support/run-until-exit';

/**
 * The replay CLI writing into a pipe whose reader went away (`replay history <id> | head`): from
 * dist/ (built here when stale), since the process' own stdout, its exit code and what it prints
 * on stderr are the point.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const DEADLINE_MS = 15_000;
/** Well above a pipe's 64 KiB buffer, so the export is still writing when its reader goes. */
const EXTRA_MISSIONS = 300;
/** What an export to stdout says when its reader goes. */
const READER_GONE = 'replay: cannot write /dev/stdout: the reader went away (EPIPE); what /dev/stdout got has no end line (an export cut short)';

/**
 * Runs `replay <args> | <reader>` in bash (a real pipe: a child's piped stdio in node is a socket,
 * which /dev/stdout cannot be opened on), exiting with replay's own code; what replay writes to
 * stdout goes to the reader, so the output is its stderr (and the reader's); `withStderr`: its stderr too.
 */
async function runPipedInto(reader: string, args: string[], env: NodeJS.ProcessEnv, { withStderr = false } = {}): Promise<ProcessExit> {
  const script = `"$REPLAY_NODE" dist/scripts/replay.js "$@" ${withStderr ? '2>&1 ' : ''}| ${reader}; exit "\${PIPESTATUS[0]}"`;
  return runUntilExit('bash', ['-c', script, 'replay', ...args], {
    cwd: ROOT,
    env: { ...outsideNpm(env), REPLAY_NODE: process.execPath },
    deadlineMs: DEADLINE_MS,
  });
}

describe('replay with a stdout whose reader closed early (dist, real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('replay-closed-stdout');
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, REDIS_URL: redisUrl(), REDIS_CLUSTER_NODES: '', KEY_PREFIX: prefix, LOG_PARTITIONS: '' });

  beforeAll(async () => {
    expect(ensureBuilt(ROOT)).toBe(0);
    const keys = new KeyLayout(prefix);
    await buildKnownLog(redis, keys);
    await appendBulkMissions(new MissionStore(redis, keys), EXTRA_MISSIONS);
  }, 180_000);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // It crashed with an unhandled 'error' event's stack trace and exit 1, the code for "verify found problems".
  it('given history piped into a reader that exits without reading, then it ends quietly with exit 0', async () => {
    expect(await runPipedInto('true', ['history', KNOWN_MISSIONS.ok], env())).toEqual({ code: EXIT_OK, output: [] });
  });

  // It exited 1 (an unhandled 'error' event on stderr), the code for "verify found problems", where without the pipe it exits 2.
  it('given bad usage with stderr piped into a reader that exits without reading, then it still ends with exit 2', async () => {
    expect(await runPipedInto('true', ['bogus'], env(), { withStderr: true })).toEqual({ code: EXIT_USAGE, output: [] });
  });

  // It exited 0 with nothing on stderr: a backup cut short (`| gzip` killed, ssh cut off) read as made,
  // and only an import refused it later. (Before that, it exited 4, the file's EPIPE taken for Redis'.)
  it('given export --out /dev/stdout piped into a reader that goes after 1 byte, then it fails with exit 7 saying what the reader got has no end line', async () => {
    expect(await runPipedInto('head -c 1 >/dev/null', ['export', '--out', '/dev/stdout'], env())).toEqual({
      code: EXIT_WRITE,
      output: [READER_GONE],
    });
  });

  // The same, with the piped stdio of a child process Node spawns (a socket, as systemd's journal is) destroyed by its parent.
  it('given export --out /dev/stdout into a socket its reader destroys half way, then it fails with exit 7 saying what the reader got has no end line', async () => {
    const run = startReplay(['export', '--out', '/dev/stdout'], env(), DEADLINE_MS);
    run.child.stdout?.once('data', () => run.child.stdout?.destroy());

    const { code, stderr } = await run.exited;
    expect({ code, stderr }).toEqual({ code: EXIT_WRITE, stderr: `${READER_GONE}\n` });
  });
});
