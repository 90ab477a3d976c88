import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveRedis, ResolvedRedis } from '@app/redis';

export interface PrivateRedis {
  url: string;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
  /** Stops the server and keeps its files, for restart(): clients see Redis go away, as in an outage. */
  halt(): Promise<void>;
  /** Starts the halted server again on the same port and files, where its clients reconnect. */
  restart(): Promise<void>;
}

/**
 * A redis-server of the test's own, for what must not reach the shared one (a `maxmemory`, which
 * would refuse every other test's writes, or an outage): REDIS_URL, which names the shared one, is left out.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'brain-private-redis-'));
  const start = (port?: number) =>
    resolveRedis({ dataDir, log: () => undefined, preferLocal: false, allowInstall: false, env: { PATH: process.env.PATH }, port });
  let server: ResolvedRedis = await start();
  const stop = async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  if (server.origin !== 'private') {
    await stop();
    throw new Error(`not a private redis-server: ${server.url}`);
  }
  const port = Number(new URL(server.url).port);
  return {
    url: server.url,
    stop,
    halt: () => server.stop(),
    restart: async () => {
      server = await start(port);
    },
  };
}
