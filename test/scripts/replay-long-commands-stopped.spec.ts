import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { KeyLayout, MissionStore } from '@app/event-store';
import { buildKnownLog, deleteKeysByPrefix, redisUrl, testKeyPrefix, testRedis } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { EXIT_REDIS } from '../../scripts/replay';
import { appendBulkMissions } from '../support/bulk-missions';
import { proxyTrippingOn } from '../support/proxy-tripping-on';
import { outsideNpm, startReplay } from '../support/replay-process';
import { ReplyDroppingProxy } from '../support/reply-dropping-proxy';

/**
 * `replay rebuild`, `verify` and `projections rebuild` stopped half way (Ctrl-C, SIGTERM, Redis
 * lost): from dist/ (built here when stale), since the signal, the terminal and what the process
 * says before it ends are the point.
 */
const ROOT = path.resolve(__dirname, '..', '..');
/** Long enough for the test to signal the process while a read waits for Redis. */
const STALL_MS = 30_000;

/** Each long command, the Redis command it reads the log with, and what it says it left when stopped. */
const COMMANDS = [
  {
    name: 'rebuild',
    args: ['rebuild'],
    reads: 'xrange',
    left: 'the missions it switched keep their mended read model, the others are unchanged or partly mended (its scratch copies expire within a day); run rebuild again',
  },
  { name: 'verify', args: ['verify'], reads: 'xrange', left: 'nothing was changed (verify only reads); run verify again' },
  {
    name: 'projections rebuild',
    args: ['projections', 'rebuild', 'daily-report'],
    reads: 'xread',
    left: 'daily-report holds the log up to where it got, which a running intake carries on from; or run projections rebuild daily-report again',
  },
];

/** A pid's children (Linux), e.g. the node process `script` runs. */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

describe('replay rebuild, verify and projections rebuild stopped half way (dist, real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('replay-long-stopped');
  const env = (url: string): NodeJS.ProcessEnv => ({ ...process.env, REDIS_URL: url, REDIS_CLUSTER_NODES: '', KEY_PREFIX: prefix, LOG_PARTITIONS: '' });

  beforeAll(async () => {
    expect(ensureBuilt(ROOT)).toBe(0);
    const keys = new KeyLayout(prefix);
    await buildKnownLog(redis, keys);
    await appendBulkMissions(new MissionStore(redis, keys), 300);
  }, 180_000);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // They ended with exit 130 and nothing said: was the read model half switched? Should it be run again?
  it.each(COMMANDS.flatMap((command) => (['SIGINT', 'SIGTERM'] as const).map((signal) => ({ ...command, signal }))))(
    'given $signal while $name reads the log, then it says what it left and what to do, and ends by the signal',
    async ({ name, args, reads, left, signal }) => {
      const { proxy, sent: reading } = await proxyTrippingOn(reads, STALL_MS);
      try {
        const replay = startReplay(args, env(proxy.url));
        await reading;
        replay.child.kill(signal);
        expect(await replay.exited).toEqual({ code: null, signal, stdout: '', stderr: `replay: ${name} interrupted: ${left}\n` });
      } finally {
        await proxy.stop();
      }
    },
  );

  // They said Redis's own words alone: `replay: Connection is closed.`
  it.each(COMMANDS)(
    'given Redis lost while $name reads the log, then it says so, what it left and what to do, with exit 4',
    async ({ name, args, reads, left }) => {
      const { proxy } = await proxyTrippingOn(reads, 150);
      try {
        const run = await startReplay(args, env(proxy.url)).exited;
        expect(run).toMatchObject({ code: EXIT_REDIS, signal: null, stdout: '' });
        // Redis's words (Connection is closed., a socket error) said in the parentheses.
        expect(run.stderr.replace(/during it \(.+\): /, 'during it (…): ')).toBe(`replay: ${name} stopped, Redis failed during it (…): ${left}\n`);
      } finally {
        await proxy.stop();
      }
    },
  );

  // On a terminal the progress bar hid the cursor and turned line wrap off; Ctrl-C left both so, the bar's line unended.
  it('given Ctrl-C while a progress bar runs on a terminal, then the cursor and line wrap are back and the line after it says what was left', async () => {
    // The third read of the log: the first batches drew the bar.
    let reads = 0;
    let trip!: () => void;
    const tripped = new Promise<void>((resolve) => (trip = resolve));
    const target = new URL(redisUrl());
    const proxy = new ReplyDroppingProxy(
      { host: target.hostname, port: Number(target.port || 6379) },
      (chunk) => {
        reads += chunk.match(/\bxrange\b/gi)?.length ?? 0;
        if (reads < 3) return null;
        trip();
        return 'xrange';
      },
      1,
      STALL_MS,
    );
    await proxy.start();
    try {
      // `script` gives replay a pseudo-terminal as its stdout and stderr, and copies what it shows to its own stdout.
      const command = `exec "${process.execPath}" dist/scripts/replay.js verify --batch-size 20`;
      const terminal = spawn('script', ['-qfc', command, '/dev/null'], { cwd: ROOT, env: outsideNpm(env(proxy.url)), stdio: ['ignore', 'pipe', 'pipe'] });
      let shown = '';
      terminal.stdout.setEncoding('utf8').on('data', (chunk: string) => (shown += chunk));
      const closed = once(terminal, 'close');
      await tripped;
      const [replay] = childrenOf(terminal.pid!);
      process.kill(replay, 'SIGINT');
      await closed;
      const hidden = shown.lastIndexOf('\x1b[?25l');
      expect(hidden).toBeGreaterThanOrEqual(0);
      const afterBar = shown.slice(hidden);
      expect(afterBar).toContain('\x1b[?25h');
      expect(afterBar).toContain('\x1b[?7h');
      expect(afterBar).toMatch(/\r?\nreplay: verify interrupted: nothing was changed \(verify only reads\); run verify again\r?\n$/);
    } finally {
      await proxy.stop();
    }
  });
});
