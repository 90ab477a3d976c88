import * as path from 'node:path';
import { Writable } from 'node:stream';
import { SERVICE_NAMES, ServiceName } from '@app/messages';
import { findFreePorts } from '@app/redis';
import { CONNECTOR_ODOO } from '@app/runtime';
import { redisUrl, waitFor } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { launchSystem, RunningSystem } from '../../scripts/launcher';

const ROOT = path.resolve(__dirname, '..', '..');

export interface LaunchedSystem {
  system: RunningSystem;
  /** The intake's base URL. */
  api: string;
}

/** Output lines kept for a launch that never gets ready: enough to show why. */
const TAIL_LINES = 60;

/**
 * The four services built and launched as `npm start` launches them (`oneProcess`: one process,
 * else four), on free ports against this run's Redis, with `env` laid over the process'; resolves
 * once every service is ready. Their output goes to `output` (default: nowhere). When they are
 * not ready within a minute, or exit first, they are stopped (a test's afterAll never sees a
 * system that did not start) and the error names the services not ready and their last output.
 */
export async function launchBuiltSystem(
  env: NodeJS.ProcessEnv,
  options: { oneProcess: boolean; output?: NodeJS.WritableStream; stopTimeoutMs?: number },
): Promise<LaunchedSystem> {
  expect(ensureBuilt(ROOT)).toBe(0);
  // The connector's too: the port after the last service's, its default, may be anyone's.
  const { [CONNECTOR_ODOO]: connectorPort, ...ports } = await findFreePorts([...SERVICE_NAMES, CONNECTOR_ODOO]);
  const tail: string[] = [];
  const output = new Writable({
    write: (chunk: Buffer, _encoding, callback) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) tail.push(line);
      tail.splice(0, Math.max(0, tail.length - TAIL_LINES));
      if (options.output) options.output.write(chunk, callback);
      else callback();
    },
  });
  const system = await launchSystem({
    services: [...SERVICE_NAMES],
    env: { ...process.env, REDIS_URL: redisUrl(), ...env },
    ports,
    connectorPort,
    dataDir: path.join(ROOT, '.data'),
    rootDir: ROOT,
    // The launcher's own lines only go to the tail: `output` gets what the services write.
    log: (line) => void tail.push(`launcher: ${line}`),
    output,
    oneProcess: options.oneProcess,
    ...(options.stopTimeoutMs ? { stopTimeoutMs: options.stopTimeoutMs } : {}),
  });
  const ready = (name: ServiceName) =>
    fetch(`http://127.0.0.1:${ports[name]}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
  const exitedFirst = system.exited.then((code) => Promise.reject(new Error(`the services exited (code ${code}) before every one was ready`)));
  // The wait for readiness stops when the race is decided: left polling, it kept the Jest worker alive for a minute.
  const decided = new AbortController();
  try {
    await Promise.race([
      waitFor(async () => (await Promise.all(SERVICE_NAMES.map(ready))).every(Boolean), {
        timeoutMs: 60_000,
        intervalMs: 200,
        what: 'every service to be ready',
        signal: decided.signal,
      }),
      exitedFirst,
    ]);
  } catch (error) {
    const notReady = (await Promise.all(SERVICE_NAMES.map(async (name) => ((await ready(name)) ? null : name)))).filter((name) => name !== null);
    await system.stop().catch(() => undefined);
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`${why}; not ready: ${notReady.join(', ') || 'none'}; their last output:\n${tail.join('\n')}`);
  } finally {
    decided.abort();
    // Once the system is up (or stopped here), its later exit is the test's business.
    exitedFirst.catch(() => undefined);
  }
  return { system, api: `http://127.0.0.1:${ports.intake}` };
}
