import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveRedis } from '@app/redis';

export interface PrivateRedis {
  url: string;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

/**
 * A redis-server of the test's own, for what must not reach the shared one (a `maxmemory`, which
 * would refuse every other test's writes): REDIS_URL, which names the shared one, is left out.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'brain-private-redis-'));
  const server = await resolveRedis({ dataDir, log: () => undefined, preferLocal: false, allowInstall: false, env: { PATH: process.env.PATH } });
  const stop = async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  if (server.origin !== 'private') {
    await stop();
    throw new Error(`not a private redis-server: ${server.url}`);
  }
  return { url: server.url, stop };
}
