import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KeyLayout, MissionStore } from '@app/event-store';
import { countKeysByPrefix } from '@app/redis';
import { buildKnownLog, deleteKeysByPrefix, TEST_DATA_KEY_SECRET, testKeyPrefix, testRedis } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { EXIT_OK, EXIT_REDIS, EXIT_USAGE } from '../../scripts/replay';
import { appendBulkMissions } from '../support/bulk-missions';
import { proxyTrippingOn } from '../support/proxy-tripping-on';
import { runReplayCli } from '../support/replay-cli';
import { startReplay } from '../support/replay-process';

/**
 * `replay import` stopped by a signal half way: from dist/ (built here when stale), since the
 * signal and what the process says before it ends are the point.
 */
const ROOT = path.resolve(__dirname, '..', '..');
/** Long enough for the test to signal the process while its first write waits for Redis. */
const STALL_MS = 30_000;

describe('replay import interrupted (dist, real Redis)', () => {
  const redis = testRedis();
  const source = testKeyPrefix('replay-import-interrupted');
  const target = `${source}restore:`;
  let dir: string;
  let backup: string;

  beforeAll(async () => {
    expect(ensureBuilt(ROOT)).toBe(0);
    const keys = new KeyLayout(source);
    await buildKnownLog(redis, keys);
    await appendBulkMissions(new MissionStore(redis, keys), 300);
    dir = await mkdtemp(path.join(tmpdir(), 'replay-import-interrupted-'));
    backup = path.join(dir, 'backup.jsonl');
    expect(await runReplayCli(['--prefix', source, 'export', '--out', backup])).toMatchObject({ code: EXIT_OK });
  }, 180_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await deleteKeysByPrefix(redis, source);
    await redis.quit();
  });

  // It ended with exit 130 and nothing said: the next import into that prefix was refused (exit 5) without the operator knowing why.
  it('given SIGINT while it writes, then it says the prefix is partial and the command that purges it, and ends interrupted', async () => {
    // The first write reaches Redis, its reply is withheld: the import waits, half done.
    const { proxy, sent: writing } = await proxyTrippingOn('xadd', STALL_MS);
    try {
      const env = { ...process.env, REDIS_URL: proxy.url, REDIS_CLUSTER_NODES: '', LOG_PARTITIONS: '', DATA_KEY_SECRET: TEST_DATA_KEY_SECRET };
      const replay = startReplay(['--prefix', target, 'import', '--in', backup], env);
      await writing;
      replay.child.kill('SIGINT');
      expect(await replay.exited).toEqual({
        code: null,
        signal: 'SIGINT',
        stdout: '',
        stderr: `replay: import interrupted: prefix "${target}" is partial; delete it (replay purge --prefix '${target}' --yes) and import again\n`,
      });
      expect(await countKeysByPrefix(redis, target)).toBeGreaterThan(0);
    } finally {
      await proxy.stop();
      await deleteKeysByPrefix(redis, target);
    }
  });

  // It said Redis's own words alone ("Connection is closed."), and the next import into the prefix was refused as not empty.
  it('given Redis lost while it writes, then it says the prefix is partial and the command that purges it, with exit 4', async () => {
    const { proxy } = await proxyTrippingOn('xadd', 150);
    try {
      const env = { ...process.env, REDIS_URL: proxy.url, REDIS_CLUSTER_NODES: '', LOG_PARTITIONS: '', DATA_KEY_SECRET: TEST_DATA_KEY_SECRET };
      expect(await startReplay(['--prefix', target, 'import', '--in', backup], env).exited).toMatchObject({
        code: EXIT_REDIS,
        stdout: '',
        stderr: expect.stringMatching(
          new RegExp(
            `^replay: import stopped, Redis failed during it \\(.+\\): prefix "${target}" is partial; delete it \\(replay purge --prefix '${target}' --yes\\) and import again\n$`,
          ),
        ),
      });
    } finally {
      await proxy.stop();
      await deleteKeysByPrefix(redis, target);
    }
  });

  // It said "no such file".
  it('given a directory as --in, then it says so with exit 2', async () => {
    expect(await runReplayCli(['--prefix', target, 'import', '--in', dir])).toEqual({
      code: EXIT_USAGE,
      stdout: '',
      stderr: `replay: ${dir} is a directory, not an export file\n`,
    });
  });
});
