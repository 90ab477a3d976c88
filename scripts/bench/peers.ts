import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import type Redis from 'ioredis';
import { deleteKeysByPrefix } from '@app/redis';
import { offerAtRate, RateOptions } from './load';
import { MissionFactory } from './missions';
import { BenchAborted, distribution, Distribution, maxOf, minOf, sleep } from './stats';
import { memoryUnder, redisCpuMs } from './system';
import type { Bar, BenchUi } from './ui';

/** Where the compiled peer processes are: beside this file in dist/ (the smoke test passes its own). */
export const DEFAULT_PEER_DIR = join(__dirname, 'peers');

const STAGES = ['assign', 'execute', 'evaluate'] as const;
const CONCURRENCY = 50;
const READY_TIMEOUT_MS = 30_000;

/** Forks `<dir>/<name>.js` and waits for its first IPC message (it is ready then). */
async function forkPeer(dir: string, name: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; hello: unknown }> {
  const child = fork(join(dir, `${name}.js`), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const hello = await new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peer ${name} not ready after ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    child.once('message', (message) => (clearTimeout(timer), resolve(message)));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`peer ${name} exited with code ${code}`))));
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return { child, hello };
}

/** Asks a peer to stop and kills it if it has not after 5 s. */
async function stopPeer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (child.connected) child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export interface BullmqRun {
  missions: number;
  missionsPerSecond: number;
  /** Submit (the bench's clock before addBulk) → the last stage's job finished, ms. */
  latency: Distribution;
  redisCpuMsPerMission: number;
}

/**
 * The BullMQ peer: three processes (assign → execute → evaluate, a Worker each, concurrency 50)
 * against the same Redis under the prefix `prefix` (BullMQ keeps completed jobs by default: no
 * history, but the job hashes stay). Every job carries a mission body like the system's.
 */
export class BullmqPeer {
  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly children: ChildProcess[],
    private readonly first: Queue,
    private readonly last: Queue,
  ) {}

  static async start(redis: Redis, redisUrl: string, prefix: string, dir: string): Promise<BullmqPeer> {
    const children: ChildProcess[] = [];
    const connection = { url: redisUrl, maxRetriesPerRequest: null };
    try {
      for (const [i, queue] of STAGES.entries()) {
        const env = { REDIS_URL: redisUrl, PEER_PREFIX: prefix, PEER_QUEUE: queue, PEER_NEXT: STAGES[i + 1] ?? '', PEER_CONCURRENCY: String(CONCURRENCY) };
        children.push((await forkPeer(dir, 'bullmq-stage', env)).child);
      }
    } catch (error) {
      await Promise.all(children.map(stopPeer));
      throw error;
    }
    return new BullmqPeer(redis, prefix, children, new Queue(STAGES[0], { connection, prefix }), new Queue(STAGES[2], { connection, prefix }));
  }

  /** `missions` jobs added in batches of `batch` as fast as the bench can, until the last stage has finished them all. */
  throughput(factory: MissionFactory, missions: number, batch: number, stallTimeoutS: number, ui: BenchUi, signal?: AbortSignal): Promise<BullmqRun> {
    return this.run(missions, stallTimeoutS, ui.bar('bullmq', missions), signal, async () => {
      for (let offset = 0; offset < missions; offset += batch) {
        if (signal?.aborted) throw new BenchAborted();
        await this.add(factory, Math.min(batch, missions - offset));
      }
    });
  }

  /** Jobs offered at `rate`/s for `duration` s, as the system's latency phase. */
  latency(factory: MissionFactory, options: RateOptions, ui: BenchUi): Promise<BullmqRun> {
    const total = Math.max(1, Math.round(options.rate * options.duration));
    return this.run(total, options.stallTimeoutS, ui.bar('bullmq done', total), options.signal, async () => {
      await offerAtRate(options, (count) => this.add(factory, count), ui.bar(`bullmq ${options.rate}/s`, total));
    });
  }

  /** Every key of the peer (jobs of the three stages, their sets, BullMQ's capped event streams) ÷ missions done. */
  async bytesPerMission(): Promise<number> {
    const done = await this.last.getCompletedCount();
    return done > 0 ? (await memoryUnder(this.redis, `${this.prefix}:`)) / done : NaN;
  }

  /** Stops the three processes and deletes the peer's keys (its prefix only). */
  async stop(): Promise<void> {
    await Promise.all(this.children.map(stopPeer));
    await Promise.allSettled([this.first.close(), this.last.close()]);
    await deleteKeysByPrefix(this.redis, `${this.prefix}:`);
  }

  private async add(factory: MissionFactory, count: number): Promise<void> {
    const t0 = Date.now();
    await this.first.addBulk(factory.missions(count).map((mission) => ({ name: 'mission', data: { ...mission, t0 } })));
  }

  /**
   * Submits with `submit` while polling the last stage's completed count until `count` more are
   * done, then reads the finished jobs: the window runs from the first submission to the last finish.
   */
  private async run(count: number, stallTimeoutS: number, bar: Bar, signal: AbortSignal | undefined, submit: () => Promise<void>): Promise<BullmqRun> {
    const cpuBefore = await redisCpuMs(this.redis);
    const baseline = await this.last.getCompletedCount();
    await submitUntilDone({ count, stallTimeoutS, bar, signal, submit, done: async () => (await this.last.getCompletedCount()) - baseline });
    const cpuMs = (await redisCpuMs(this.redis)) - cpuBefore;
    const jobs: Job[] = [];
    // The completed set is ordered by finish time: this run's jobs come after the baseline's.
    for (let start = baseline; start < baseline + count; start += 1_000) {
      jobs.push(...(await this.last.getJobs(['completed'], start, Math.min(start + 999, baseline + count - 1), true)));
    }
    const windowMs = maxOf(jobs.map((job) => job.finishedOn ?? NaN)) - minOf(jobs.map((job) => Number(job.data.t0)));
    return {
      missions: count,
      missionsPerSecond: (count / windowMs) * 1000,
      latency: distribution(jobs.map((job) => (job.finishedOn ?? NaN) - Number(job.data.t0))),
      redisCpuMsPerMission: cpuMs / count,
    };
  }
}

/**
 * Runs `submit` and polls `done()` every 100 ms into `bar` from the start, until `count` are done,
 * so a phase offered at a rate shows its finished jobs while it is still offering, as the system's
 * phases do (the bar stood at 0 until the last job was offered). Fails when none finishes for
 * `stallTimeoutS`, or as soon as `submit` fails.
 */
export async function submitUntilDone(options: {
  count: number;
  stallTimeoutS: number;
  bar: Bar;
  signal?: AbortSignal;
  submit: () => Promise<void>;
  done: () => Promise<number>;
}): Promise<void> {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const polling = (async () => {
    let [last, progressAt] = [-1, Date.now()];
    for (;;) {
      const done = await options.done();
      options.bar.update(done);
      if (done >= options.count) return;
      if (done !== last) [last, progressAt] = [done, Date.now()];
      if (Date.now() - progressAt > options.stallTimeoutS * 1000)
        throw new Error(`BullMQ peer: no job finished for ${options.stallTimeoutS} s (${done} of ${options.count})`);
      await sleep(100, signal);
    }
  })();
  // Observed below; a failed submission ends the polling through `stop` first.
  polling.catch(() => undefined);
  try {
    await options.submit();
    await polling;
  } finally {
    stop.abort();
    options.bar.stop();
  }
}

export interface BareHttp {
  baseUrl: string;
  stop(): Promise<void>;
}

/** The bare `node:http` + `JSON.parse` + `XADD` server, in a process of its own; its stream is `stream`. */
export async function startBareHttp(redisUrl: string, stream: string, dir: string): Promise<BareHttp> {
  const { child, hello } = await forkPeer(dir, 'bare-http', { REDIS_URL: redisUrl, PEER_STREAM: stream });
  return { baseUrl: `http://127.0.0.1:${(hello as { port: number }).port}`, stop: () => stopPeer(child) };
}
