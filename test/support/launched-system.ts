import * as path from 'node:path';
import { Writable } from 'node:stream';
import { SERVICE_NAMES, ServiceName } from '@app/messages';
import { findFreePort } from '@app/redis';
import { redisUrl, waitFor } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { launchSystem, RunningSystem } from '../../scripts/launcher';

const ROOT = path.resolve(__dirname, '..', '..');

export interface LaunchedSystem {
  system: RunningSystem;
  /** The intake's base URL. */
  api: string;
}

/**
 * The four services built and launched as `npm start` launches them (`oneProcess`: one process,
 * else four), on free ports against this run's Redis, with `env` laid over the process'; resolves
 * once every service is ready. Their output goes to `output` (default: nowhere).
 */
export async function launchBuiltSystem(env: NodeJS.ProcessEnv, options: { oneProcess: boolean; output?: NodeJS.WritableStream }): Promise<LaunchedSystem> {
  expect(ensureBuilt(ROOT)).toBe(0);
  const ports = {} as Record<ServiceName, number>;
  for (const name of SERVICE_NAMES) ports[name] = await findFreePort();
  const system = await launchSystem({
    services: [...SERVICE_NAMES],
    env: { ...process.env, REDIS_URL: redisUrl(), ...env },
    ports,
    dataDir: path.join(ROOT, '.data'),
    rootDir: ROOT,
    log: () => undefined,
    output: options.output ?? new Writable({ write: (_chunk, _encoding, callback) => callback() }),
    oneProcess: options.oneProcess,
  });
  const ready = (name: ServiceName) =>
    fetch(`http://127.0.0.1:${ports[name]}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
  await waitFor(async () => (await Promise.all(SERVICE_NAMES.map(ready))).every(Boolean), {
    timeoutMs: 60_000,
    intervalMs: 200,
    what: 'every service to be ready',
  });
  return { system, api: `http://127.0.0.1:${ports.intake}` };
}
