import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SERVICE_NAMES } from '@app/messages';
import { CONNECTOR_ODOO, ListeningMessage } from '@app/runtime';
import { redisUrl, waitFor } from '@app/testing';
import { launchSystem, LaunchOptions, ONE_PROCESS, RestartPolicy } from '../../scripts/launcher';
import { isAlive } from '../support/process-alive';
import { startedPids } from '../support/started-pids';

/**
 * A stand-in for a built process: tells the launcher that `names` listen, as the services and the
 * connector do (reportListening), then says which PORT it got, and waits for SIGTERM.
 */
function standIn(...names: string[]): string {
  const messages = names.map((name): ListeningMessage => ({ type: 'listening', service: name }));
  return (
    `for (const message of ${JSON.stringify(messages)}) process.send(message); console.log('port ' + process.env.PORT); ` +
    "process.on('SIGTERM', () => process.exit(0)); setInterval(() => undefined, 1000);"
  );
}

/** A connector that stops before it listens, as one with a taken port or a bad mapping file does. */
const FAILS_BEFORE_LISTENING = "console.log('port ' + process.env.PORT); process.exit(1);";

const standInRoots: string[] = [];

/** A rootDir with stand-ins for the four services, the one process and `connector`. */
function standInRoot(connector: string): string {
  const rootDir = mkdtempSync(join(tmpdir(), 'launcher-connector-'));
  standInRoots.push(rootDir);
  const write = (file: string, script: string) => {
    mkdirSync(dirname(join(rootDir, file)), { recursive: true });
    writeFileSync(join(rootDir, file), script);
  };
  for (const name of SERVICE_NAMES) write(join('dist', 'apps', name, 'src', 'main.js'), standIn(name));
  write(join('dist', 'scripts', 'one-process.js'), standIn(...SERVICE_NAMES));
  write(join('dist', 'apps', CONNECTOR_ODOO, 'src', 'main.js'), connector);
  return rootDir;
}

/** As `npm start -- --split` restarts, without its waits. */
const QUICK_RESTART: RestartPolicy = { firstDelayMs: 10, maxDelayMs: 10, failures: 5, windowMs: 60_000 };
const ODOO = { ODOO_URL: 'http://127.0.0.1:8069' };

describe('the launcher and the Odoo connector', () => {
  const rootDir = standInRoot(standIn(CONNECTOR_ODOO));
  afterAll(() => {
    for (const dir of standInRoots) rmSync(dir, { recursive: true, force: true });
  });

  /** `lines`: the processes' output; `logged`: the launcher's own lines. */
  const launch = async (env: NodeJS.ProcessEnv, options: Pick<LaunchOptions, 'restart' | 'oneProcess' | 'rootDir'> = {}) => {
    const lines: string[] = [];
    const logged: string[] = [];
    const output = { write: (line: string) => lines.push(line) !== 0 } as unknown as NodeJS.WritableStream;
    const system = await launchSystem({
      services: [...SERVICE_NAMES],
      env: { REDIS_URL: redisUrl(), ...env },
      dataDir: join(rootDir, '.data'),
      log: (line) => void logged.push(line),
      output,
      color: false,
      rootDir,
      ...options,
    });
    const started = (count: number) =>
      waitFor(async () => lines.filter((line) => line.includes('port ')).length === count, { timeoutMs: 10_000, what: `${count} processes to start` });
    return { system, lines, logged, started };
  };

  it('given ODOO_URL, then the connector starts beside the four services, on the port after theirs', async () => {
    const { system, lines, started } = await launch(ODOO);
    try {
      await started(5);
      expect(lines.find((line) => line.startsWith(CONNECTOR_ODOO))).toContain('port 3004');
    } finally {
      await system.stop();
    }
  });

  it('given no ODOO_URL, then only the four services start', async () => {
    const { system, lines, started } = await launch({});
    try {
      await started(4);
      expect(lines.some((line) => line.startsWith(CONNECTOR_ODOO))).toBe(false);
    } finally {
      await system.stop();
    }
  });

  it('given --split (a restart policy), when the connector is killed outright after it listened, then it alone is started again; the services keep their pids', async () => {
    const { system, logged, started } = await launch(ODOO, { restart: QUICK_RESTART });
    let exitCode: number | undefined;
    void system.exited.then((code) => (exitCode = code));
    try {
      await started(5);
      const pids = startedPids(logged);
      process.kill(pids[CONNECTOR_ODOO], 'SIGKILL');

      // It used to be taken for a failed start: "connector-odoo exited unexpectedly (signal SIGKILL); stopping the rest".
      const back = await waitFor(
        async () => logged.find((line) => line.startsWith(`${CONNECTOR_ODOO} is back`)) ?? (exitCode === undefined ? undefined : 'stopped'),
        {
          timeoutMs: 10_000,
          what: 'the connector to be back',
        },
      );
      expect(back).toMatch(/^connector-odoo is back \(pid \d+\)$/);
      expect(logged).toContain(`${CONNECTOR_ODOO} exited unexpectedly (signal SIGKILL); restarting it in 0.01 s (failure 1 of 5 within 60 s gives up)`);
      expect(Number(/pid (\d+)/.exec(back)?.[1])).not.toBe(pids[CONNECTOR_ODOO]);
      // The services ran on untouched, each still the process it was, started once.
      for (const name of SERVICE_NAMES) expect(isAlive(pids[name])).toBe(true);
      expect(logged.filter((line) => line.startsWith('Started '))).toHaveLength(SERVICE_NAMES.length + 2);
      expect(exitCode).toBeUndefined();
    } finally {
      await system.stop();
    }
  });

  it('given --split and a connector that exits before it listens, then it is a failed start: not restarted, the rest stopped, exit 1', async () => {
    const { system, logged } = await launch(ODOO, { restart: QUICK_RESTART, rootDir: standInRoot(FAILS_BEFORE_LISTENING) });
    try {
      expect(await system.exited).toBe(1);
      expect(logged).toContain(`${CONNECTOR_ODOO} exited unexpectedly (code 1); stopping the rest`);
      expect(logged.filter((line) => line.includes('restarting'))).toEqual([]);
    } finally {
      await system.stop();
    }
  });

  it('given one process (the default), then the connector is a process of its own beside it, and its kill -9 stops everything, as a crash there does', async () => {
    const { system, logged, started } = await launch(ODOO, { oneProcess: true });
    try {
      await started(2);
      const pids = startedPids(logged);
      expect(Object.keys(pids)).toEqual([ONE_PROCESS, CONNECTOR_ODOO]);
      process.kill(pids[CONNECTOR_ODOO], 'SIGKILL');

      expect(await system.exited).toBe(1);
      expect(logged).toContain(`${CONNECTOR_ODOO} exited unexpectedly (signal SIGKILL); stopping the rest`);
      expect(isAlive(pids[ONE_PROCESS])).toBe(false);
    } finally {
      await system.stop();
    }
  });
});
