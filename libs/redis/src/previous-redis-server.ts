import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

/** Kept by a private redis-server in its data dir: written when it starts, removed when it shuts down, left when it is killed. */
export const PID_FILE = 'redis-server.pid';
const POLL_MS = 100;

export interface PreviousRedisServer {
  pid: number;
  /** host:port, from its process title. */
  address: string;
}

/**
 * The redis-server an earlier start left running over the AOF files in `dir`, if any. A pid file
 * outlives a server that was killed, and its pid may be reused since: only a process whose title
 * is redis-server's (`redis-server 127.0.0.1:<port>`) counts. Without /proc nothing is found.
 */
export async function previousRedisServer(dir: string): Promise<PreviousRedisServer | undefined> {
  let pid: number;
  try {
    pid = Number((await readFile(path.join(dir, PID_FILE), 'utf8')).trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const address = await redisServerAddress(pid);
  return address ? { pid, address } : undefined;
}

/**
 * The host:port a redis-server process with this pid serves, from its process title
 * (`redis-server 127.0.0.1:<port>`); undefined when the pid is not a redis-server's (gone, or
 * reused since it was recorded) or there is no /proc to read it from.
 */
export async function redisServerAddress(pid: number): Promise<string | undefined> {
  try {
    const title = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim();
    return /^\S*redis-server (\S+:\d+)/.exec(title)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Two servers over one data dir append to the same AOF files, and one's rewrite deletes files the
 * other still writes. So a private server starts only once the previous one has gone: one whose
 * owner died is shut down by its watchdog once its clients have gone (WATCHDOG_CLIENTS_GRACE_MS).
 * Still there after `timeoutMs`, it is either in use by another launcher or was left without a
 * watchdog: which, this cannot tell, so it is named for the user to decide.
 */
export async function waitForPreviousRedisServer(dir: string, log: (line: string) => void, timeoutMs: number): Promise<void> {
  let previous = await previousRedisServer(dir);
  if (!previous) return;
  log(`A redis-server from an earlier start (pid ${previous.pid}, ${previous.address}) still uses ${dir}; waiting up to ${timeoutMs / 1000} s for it to stop`);
  const deadline = Date.now() + timeoutMs;
  while (previous) {
    if (Date.now() >= deadline) {
      throw new Error(
        `The redis-server with pid ${previous.pid} (${previous.address}) still uses ${dir}, and a second server must not share its files. ` +
          `If another npm start or demo uses it, stop that first or set REDIS_URL=redis://${previous.address} to share it; ` +
          `if nothing does, stop it (redis-cli -h ${previous.address.replace(/:(\d+)$/, ' -p $1')} shutdown).`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    previous = await previousRedisServer(dir);
  }
}
