import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readExportEndLine } from '@app/audit';
import { KeyLayout, MissionStore } from '@app/event-store';
import { buildKnownLog, deleteKeysByPrefix, KNOWN_EVENT_COUNT, redisUrl, testKeyPrefix, testRedis } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { EXIT_OK, EXIT_REDIS } from '../../scripts/replay';
import { appendBulkMissions } from '../support/bulk-missions';
import { proxyTrippingOn } from '../support/proxy-tripping-on';
import { startReplay } from '../support/replay-process';

/**
 * `replay export --out` over the backup it replaces, failing half way (Redis lost, Ctrl-C): from
 * dist/ (built here when stale), since the signal, the process' exit and its files are the point.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const EXTRA_MISSIONS = 300;
const EVENTS = KNOWN_EVENT_COUNT + 2 * EXTRA_MISSIONS;
/** Long enough for the test to signal the process while its read of the log waits for Redis. */
const STALL_MS = 30_000;

describe('replay export replacing a backup (dist, real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('replay-export-replace');
  let dir: string;
  let backup: string;
  let previous: Buffer;

  const env = (url: string): NodeJS.ProcessEnv => ({ ...process.env, REDIS_URL: url, REDIS_CLUSTER_NODES: '', KEY_PREFIX: prefix, LOG_PARTITIONS: '' });
  beforeAll(async () => {
    expect(ensureBuilt(ROOT)).toBe(0);
    const keys = new KeyLayout(prefix);
    await buildKnownLog(redis, keys);
    await appendBulkMissions(new MissionStore(redis, keys), EXTRA_MISSIONS);
    dir = await mkdtemp(path.join(tmpdir(), 'replay-export-replace-'));
    backup = path.join(dir, 'backup.jsonl');
    // given yesterday's backup, made by the same command
    const made = await startReplay(['export', '--out', backup], env(redisUrl())).exited;
    expect(made).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(await readExportEndLine(backup)).toMatchObject({ events: EVENTS });
    expect((await stat(backup)).mode & 0o777).toBe(0o600);
    previous = await readFile(backup);
  }, 180_000);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  // The target was truncated when the export started: Ctrl-C left it 0 bytes, a lost Redis a fragment without the end line.
  it('given Redis lost half way, then it exits 4 naming Redis, and the previous backup is as it was with nothing left beside it', async () => {
    // The export's first read of the log reaches Redis; the connection is cut before its reply.
    const { proxy } = await proxyTrippingOn('xrange', 150);
    try {
      const run = await startReplay(['export', '--out', backup], env(proxy.url)).exited;
      expect(run).toMatchObject({
        code: EXIT_REDIS,
        stdout: '',
        stderr: expect.stringMatching(/^replay: export stopped, Redis failed during it \(.+\): the previous .*backup\.jsonl was left as it was\n$/),
      });
      expect(await readFile(backup)).toEqual(previous);
      expect(await readdir(dir)).toEqual(['backup.jsonl']);
    } finally {
      await proxy.stop();
    }
  });

  it('given Ctrl-C half way, then it ends interrupted, saying so, and the previous backup is as it was with nothing left beside it', async () => {
    const { proxy, sent: reading } = await proxyTrippingOn('xrange', STALL_MS);
    try {
      const replay = startReplay(['export', '--out', backup], env(proxy.url));
      await reading;
      // The export is waiting for the log's replies, its file open.
      expect((await readdir(dir)).sort()).toEqual([
        'backup.jsonl',
        expect.stringMatching(new RegExp(`^backup\\.jsonl\\.partial-${replay.child.pid}-[0-9a-f]{8}$`)),
      ]);
      replay.child.kill('SIGINT');
      expect(await replay.exited).toMatchObject({
        signal: 'SIGINT',
        stdout: '',
        stderr: expect.stringMatching(/^replay: export interrupted: the previous .*backup\.jsonl was left as it was\n$/),
      });
      expect(await readFile(backup)).toEqual(previous);
      expect(await readdir(dir)).toEqual(['backup.jsonl']);
    } finally {
      await proxy.stop();
    }
  });
});
