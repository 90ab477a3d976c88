import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, Server } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { GuestDataKeys, MasterKeyRing, SubjectKeyCache, SubjectKeyStore } from '@app/guest-data';
import { findFreePort, portIsFree, withinDeadline } from '@app/redis';
import { CONNECTOR_PORT_VARIABLE, FAILED_START_CLOSE_MS } from '@app/runtime';
import { deleteKeysByPrefix, FakeOdooServer, redisUrl, TEST_DATA_KEY_SECRET, testKeyPrefix, testRedisConnection, VanishingProxy, waitFor } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { launchSystem, launcherCheckedVariables } from '../../scripts/launcher';
import { oneMissionFixtures } from '../support/demo-fixtures';
import { isAlive } from '../support/process-alive';
import { startedPids } from '../support/started-pids';

/**
 * The services and `npm start` as processes, from dist/ (built here when stale): what a person sees
 * on the terminal is the point of these checks, and only a real process shows it.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const API_KEYS = 'ops:process-spec-secret-0123456789:operator';

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const exited = once(child, 'close').then(([code]) => code as number | null);
  return { child, stdout, stderr, exited };
}

/**
 * Returns once Linux has delivered `signal`, sent to `pid`, to the process: no longer pending in
 * /proc/<pid>/status (ShdPnd, where a signal sent to a process waits for one of its threads). A
 * copy sent after it is a second delivery rather than merging into the first. Reads without
 * yielding, so the copy follows within moments; throws after 10 s.
 */
function untilDelivered(pid: number, signal: NodeJS.Signals): void {
  const bit = 1 << (osConstants.signals[signal] - 1);
  const deadline = performance.now() + 10_000;
  for (;;) {
    const pending = /^ShdPnd:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (pending === undefined) throw new Error(`no ShdPnd in /proc/${pid}/status`);
    // The signals below 32 are in the mask's last 8 hex digits.
    if ((parseInt(pending.slice(-8), 16) & bit) === 0) return;
    if (performance.now() > deadline) throw new Error(`${signal} still pending for process ${pid} after 10 s`);
  }
}

/** The ready line of `npm start`, or 'exited' when it ended first. */
function readyLine(start: Run): Promise<string> {
  return waitFor(async () => start.stdout.find((line) => line.includes('Ready:')) ?? (start.child.exitCode !== null ? 'exited' : undefined), {
    timeoutMs: 60_000,
    intervalMs: 100,
    what: 'the ready line of npm start',
  });
}

/**
 * Whichever comes first of a service process: its exit, or an answer on /health from one that
 * started anyway (then a test expecting a refusal fails at once, not at its timeout).
 */
function exitedOrListening(child: ChildProcess, port: number): Promise<'exited' | 'listening'> {
  return waitFor(
    async () => {
      if (child.exitCode !== null) return 'exited';
      const healthy = await fetch(`http://127.0.0.1:${port}/health`).then(
        (response) => response.ok,
        () => false,
      );
      return healthy ? 'listening' : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: 'the process to exit or to answer /health' },
  );
}

/**
 * A checkout of its own for a start without DATA_KEY_SECRET or DATA_KEY_FILE: a copy of package.json
 * beside links to this one's dist/ and node_modules/. A service keeps the master key it generates in
 * the `.data` beside the package.json above its own files; run through the links with symlinks
 * preserved (`script`'s arguments), it finds this one, so what it writes there, or does not, is the
 * test's to see, whatever this checkout's `.data` holds.
 */
function linkedCheckout(): { dataKeyFile: string; script: (file: string) => string[]; remove: () => void } {
  const root = mkdtempSync(path.join(tmpdir(), 'start-process-checkout-'));
  copyFileSync(path.join(ROOT, 'package.json'), path.join(root, 'package.json'));
  for (const dir of ['dist', 'node_modules']) symlinkSync(path.join(ROOT, dir), path.join(root, dir));
  return {
    dataKeyFile: path.join(root, '.data', 'data-key'),
    script: (file) => ['--preserve-symlinks', '--preserve-symlinks-main', path.join(root, file)],
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A free port with the three after it free too, for PORT and PORT+1..3 (below the ephemeral range, as findFreePort). */
async function freePortRun(): Promise<number> {
  for (;;) {
    const port = await findFreePort();
    const next = await Promise.all([1, 2, 3].map((offset) => portIsFree(port + offset)));
    if (next.every(Boolean)) return port;
  }
}

const API_HEADERS = { authorization: `Bearer ${API_KEYS.split(':')[1]}`, 'content-type': 'application/json' };

/** 'exited' once the launcher has ended, else undefined (for a waitFor that must not outwait it). */
function exitedEarly(start: Run): 'exited' | undefined {
  return start.child.exitCode !== null || start.child.signalCode !== null ? 'exited' : undefined;
}

/**
 * Kills `name` (pid `pid`) outright under `npm start -- --split` and waits for the launcher to say
 * it is back after its first failure; the pid it runs under now.
 */
async function killedAndBack(start: Run, name: string, pid: number): Promise<number> {
  process.kill(pid, 'SIGKILL');
  const back = await waitFor(async () => start.stdout.find((line) => line.includes(`${name} is back (pid `)) ?? exitedEarly(start), {
    timeoutMs: 60_000,
    intervalMs: 100,
    what: `${name} to be back`,
  });
  expect(back).not.toBe('exited');
  expect(start.stdout).toContainEqual(
    `launcher     | ${name} exited unexpectedly (signal SIGKILL); restarting it in 1 s (failure 1 of 5 within 60 s gives up)`,
  );
  const restartedPid = Number(/pid (\d+)/.exec(back)?.[1]);
  expect(restartedPid).not.toBe(pid);
  return restartedPid;
}

/** A maintenance mission through the API on `port`; its id. */
async function submitMission(port: number, title: string): Promise<string> {
  const mission = { type: 'maintenance', title, description: 'Reported by a guest.', priority: 'normal', payload: { room: '112' } };
  const response = await fetch(`http://127.0.0.1:${port}/api/missions`, { method: 'POST', headers: API_HEADERS, body: JSON.stringify(mission) });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function missionStatus(port: number, id: string): Promise<string> {
  return ((await (await fetch(`http://127.0.0.1:${port}/api/missions/${id}`, { headers: API_HEADERS })).json()) as { status: string }).status;
}

describe('the services and npm start as processes', () => {
  const redis = testRedisConnection('start-process-spec');
  const prefix = testKeyPrefix('start-process');
  // A master key of their own: without one, the first process on a fresh checkout generates
  // .data/data-key and says so on stderr, a line the exact stderr these tests expect does not hold.
  const baseEnv = (): NodeJS.ProcessEnv => ({
    ...process.env,
    REDIS_URL: redisUrl(),
    KEY_PREFIX: prefix,
    API_KEYS,
    LOG_LEVEL: 'info',
    DATA_KEY_SECRET: TEST_DATA_KEY_SECRET,
  });
  const running: ChildProcess[] = [];

  beforeAll(() => {
    expect(ensureBuilt(ROOT)).toBe(0);
  }, 180_000);

  afterEach(() => {
    for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given its port is taken, then the intake says so in one line, exits 1 without a stack, and never claims it started', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const intake = run(['dist/apps/intake/src/main.js'], { ...baseEnv(), PORT: String(port), LOG_FORMAT: 'json' });
      running.push(intake.child);

      expect(await intake.exited).toBe(1);
      expect(intake.stderr).toEqual([
        `intake: cannot listen on port ${port}: it is already in use (EADDRINUSE); stop what holds it or set PORT to a free port`,
      ]);
      const output = [...intake.stdout, ...intake.stderr].join('\n');
      expect(output).not.toMatch(/^\s+at /m);
      expect(output).not.toMatch(/successfully started|listening on port/);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it("given the evaluator's port is taken, then the one process says so in one line, closes the services it started and exits 1", async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, resolve));
    const taken = (holder.address() as { port: number }).port;
    try {
      const ports = await Promise.all([0, 1, 2].map(() => findFreePort()));
      const env = {
        ...baseEnv(),
        PORT: String(ports[0]),
        ORCHESTRATOR_PORT: String(ports[1]),
        EXECUTOR_PORT: String(ports[2]),
        EVALUATOR_PORT: String(taken),
        LOG_FORMAT: 'json',
      };
      const all = run(['dist/scripts/one-process.js'], env);
      running.push(all.child);

      expect(await all.exited).toBe(1);
      expect(all.stderr).toEqual([
        `evaluator: cannot listen on port ${taken}: it is already in use (EADDRINUSE); stop what holds it or set EVALUATOR_PORT to a free port`,
      ]);
      expect([...all.stdout, ...all.stderr].join('\n')).not.toMatch(/^\s+at /m);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it("given --split and the orchestrator's port (PORT+1) taken, then its line names ORCHESTRATOR_PORT, not the PORT it was handed", async () => {
    const port = await freePortRun();
    // The launcher's readiness checks connect to it too; closing them at once lets holder.close() end.
    const holder: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => holder.listen(port + 1, resolve));
    try {
      const start = run(['dist/scripts/start.js', '--split'], { ...baseEnv(), PORT: String(port), LOG_FORMAT: 'json' });
      running.push(start.child);
      expect(await start.exited).toBe(1);
      expect(start.stdout).toContainEqual(
        `orchestrator | orchestrator: cannot listen on port ${port + 1}: it is already in use (EADDRINUSE); stop what holds it or set ORCHESTRATOR_PORT to a free port`,
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('given its port is taken, then the Odoo connector says so in one line naming PORT and exits 1 without a stack; on a free port it says it listens', async () => {
    const odoo = await FakeOdooServer.start();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, resolve));
    const taken = (holder.address() as { port: number }).port;
    try {
      const refused = run(['dist/apps/connector-odoo/src/main.js'], { ...baseEnv(), ...odoo.connection, PORT: String(taken), LOG_FORMAT: 'json' });
      running.push(refused.child);

      // It used to be an unhandled rejection's stack, and no line ever said it listened.
      expect(await refused.exited).toBe(1);
      expect(refused.stderr).toEqual([
        `connector-odoo: cannot listen on port ${taken}: it is already in use (EADDRINUSE); stop what holds it or set PORT to a free port`,
      ]);
      expect([...refused.stdout, ...refused.stderr].join('\n')).not.toMatch(/^\s+at |listening on port/m);

      const port = await findFreePort();
      const connector = run(['dist/apps/connector-odoo/src/main.js'], { ...baseEnv(), ...odoo.connection, PORT: String(port), LOG_FORMAT: 'json' });
      running.push(connector.child);
      await waitFor(async () => connector.stdout.find((line) => line.includes(`connector-odoo listening on port ${port}`)), {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: 'the connector to say it listens',
      });
      connector.child.kill('SIGTERM');
      expect(await connector.exited).toBe(0);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
      await odoo.close();
    }
  });

  it('given PORT=0 without the launcher, then the service logs the port it was given, and answers there', async () => {
    const evaluator = run(['dist/apps/evaluator/src/main.js'], { ...baseEnv(), PORT: '0', LOG_FORMAT: 'json' });
    running.push(evaluator.child);
    // It used to log "listening on port 0", the one place an operator could have found the port.
    const line = await waitFor(async () => evaluator.stdout.find((candidate) => candidate.includes('evaluator listening on port')), {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: 'the evaluator to say it listens',
    });
    const port = Number(/evaluator listening on port (\d+)/.exec(line)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    evaluator.child.kill('SIGTERM');
    expect(await evaluator.exited).toBe(0);
  });

  it("given ODOO_URL and the connector's port (the highest service port + 1) taken, then npm start's connector line names CONNECTOR_PORT and it stops", async () => {
    const port = await freePortRun();
    const odoo = await FakeOdooServer.start();
    const holder: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => holder.listen(port + 4, resolve));
    try {
      const start = run(['dist/scripts/start.js'], { ...baseEnv(), ...odoo.connection, PORT: String(port), LOG_FORMAT: 'json' });
      running.push(start.child);

      expect(await start.exited).toBe(1);
      expect(start.stdout).toContainEqual(
        `connector-odoo | connector-odoo: cannot listen on port ${port + 4}: it is already in use (EADDRINUSE); stop what holds it or set CONNECTOR_PORT to a free port`,
      );
      expect(start.stdout.join('\n')).not.toMatch(/^connector-odoo \|\s+at /m);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
      await odoo.close();
    }
  });

  it('given another system already answering on its ports, then npm start never says Ready: its own service could not listen', async () => {
    const port = await freePortRun();
    // As a second `npm start` finds the first: every port answers its health check with 200.
    const others = [0, 1, 2, 3].map(() => createHttpServer((_request, response) => response.writeHead(200).end('{"status":"ok"}')));
    await Promise.all(others.map((server, offset) => new Promise<void>((resolve) => server.listen(port + offset, resolve))));
    try {
      const start = run(['dist/scripts/start.js'], { ...baseEnv(), PORT: String(port), LOG_FORMAT: 'json' });
      running.push(start.child);

      expect(await start.exited).toBe(1);
      expect(start.stdout.join('\n')).toMatch(/intake: cannot listen on port \d+: it is already in use/);
      expect(start.stdout.filter((line) => line.includes('Ready:'))).toEqual([]);
    } finally {
      for (const server of others) server.closeAllConnections();
      await Promise.all(others.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });

  it('given LLM_PROVIDER=openai without a server and model, then the executor exits 78 naming both, without a stack', async () => {
    const executor = run(['dist/apps/executor/src/main.js'], { ...baseEnv(), PORT: '0', LLM_PROVIDER: 'openai', LLM_BASE_URL: '', LLM_MODEL: '' });
    running.push(executor.child);

    expect(await executor.exited).toBe(78);
    expect(executor.stderr.join('\n')).toMatch(/^executor: invalid configuration:\n {2}- LLM_PROVIDER="openai" needs LLM_BASE_URL and LLM_MODEL /);
    expect(executor.stderr.join('\n')).not.toMatch(/^\s+at /m);
  });

  // Both used to end with a stack trace and exit 1 (the second as "cannot listen on port").
  it('given a malformed API_KEYS entry, then the intake, alone or in the one process, exits 78 naming the entry, without a stack', async () => {
    for (const args of [['dist/apps/intake/src/main.js'], ['dist/scripts/one-process.js']]) {
      const started = run(args, { ...baseEnv(), PORT: String(await freePortRun()), API_KEYS: 'ops:short:operator' });
      running.push(started.child);

      expect(await started.exited).toBe(78);
      expect(started.stderr.join('\n')).toMatch(
        /^intake: invalid configuration:\n {2}- API_KEYS entry 1 \("ops"\): the secret is shorter than 16 characters$/m,
      );
      expect(started.stderr.join('\n')).not.toMatch(/^\s+at /m);
    }
  });

  it('given LOG_PARTITIONS other than the one the key prefix was set up with, then the intake exits 78 naming both, without a stack', async () => {
    const partitioned = testKeyPrefix('start-process-partitions');
    try {
      await redis.set(`${partitioned}config:log-partitions`, '2');
      const intake = run(['dist/apps/intake/src/main.js'], { ...baseEnv(), KEY_PREFIX: partitioned, PORT: '0', LOG_PARTITIONS: '1' });
      running.push(intake.child);

      expect(await intake.exited).toBe(78);
      const stderr = intake.stderr.join('\n');
      expect(stderr).toMatch(/^intake: invalid configuration:\n {2}- LOG_PARTITIONS=1, but this KEY_PREFIX was set up with LOG_PARTITIONS=2/m);
      expect(stderr).not.toMatch(/cannot listen|^\s+at /m);
    } finally {
      await deleteKeysByPrefix(redis, partitioned);
    }
  });

  /**
   * A subject's data key under `prefix`, wrapped under one master key (as after a rotation), and the
   * secret of another: a process configured with that one only must refuse to start with `refusal`.
   */
  const keyUnderAnotherMasterKey = async (prefix: string): Promise<{ otherSecret: string; rotated: string; refusal: string }> => {
    const [rotatedSecret, otherSecret] = ['rotated-master-key-for-guest-data-9876543210', 'stale-master-key-for-guest-data-0123456789'];
    const store = new SubjectKeyStore(redis, new GuestDataKeys(prefix), MasterKeyRing.fromSecrets(rotatedSecret), new SubjectKeyCache(0, 1));
    await store.keysFor(['guest:4711']);
    const [rotated, configured] = [rotatedSecret, otherSecret].map((secret) => MasterKeyRing.fromSecrets(secret).current.id);
    const refusal =
      `  - the data keys under KEY_PREFIX=${prefix} are wrapped under master key ${rotated}, which is not configured (configured: ${configured}): ` +
      'set DATA_KEY_SECRET/DATA_KEY_FILE to it, or list it in DATA_KEY_PREVIOUS_SECRETS/DATA_KEY_PREVIOUS_FILES';
    return { otherSecret, rotated, refusal };
  };

  it('given data keys wrapped under a master key it is not configured with, then the intake exits 78 naming both key ids and the variables, without a stack', async () => {
    const rotatedPrefix = testKeyPrefix('start-process-master-key');
    try {
      const { otherSecret, refusal } = await keyUnderAnotherMasterKey(rotatedPrefix);
      const intake = run(['dist/apps/intake/src/main.js'], { ...baseEnv(), KEY_PREFIX: rotatedPrefix, PORT: '0', DATA_KEY_SECRET: otherSecret });
      running.push(intake.child);

      expect(await intake.exited).toBe(78);
      const stderr = intake.stderr.join('\n');
      expect(stderr).toMatch(/^intake: invalid configuration:$/m);
      expect(stderr).toContain(refusal);
      expect(stderr).not.toMatch(/cannot listen|^\s+at /m);
    } finally {
      await deleteKeysByPrefix(redis, rotatedPrefix);
    }
  });

  // Neither set: each start generated a new local master key, wrapping none of the prefix's data
  // keys, then was refused for it; the file stayed, and the next start took it for the master key.
  it('given no master key configured and data keys under the prefix, then the intake, alone or in the one process, exits 78 naming their key and generates none', async () => {
    const rotatedPrefix = testKeyPrefix('start-process-no-master-key');
    const checkout = linkedCheckout();
    try {
      const { rotated } = await keyUnderAnotherMasterKey(rotatedPrefix);
      for (const file of ['dist/apps/intake/src/main.js', 'dist/scripts/one-process.js']) {
        const started = run(checkout.script(file), {
          ...baseEnv(),
          KEY_PREFIX: rotatedPrefix,
          PORT: String(await freePortRun()),
          DATA_KEY_SECRET: '',
          DATA_KEY_FILE: '',
        });
        running.push(started.child);

        expect(await started.exited).toBe(78);
        const stderr = started.stderr.join('\n');
        expect(stderr).toMatch(/^intake: invalid configuration:$/m);
        expect(stderr).toContain(
          `  - the data keys under KEY_PREFIX=${rotatedPrefix} are wrapped under master key ${rotated}, and neither DATA_KEY_SECRET nor DATA_KEY_FILE is set: ` +
            `set one of them to that master key (no local key was generated into ${checkout.dataKeyFile}: a new one could unwrap none of them)`,
        );
        expect(stderr).not.toMatch(/generated a local master key|cannot listen|^\s+at /m);
        expect(existsSync(checkout.dataKeyFile)).toBe(false);
      }
    } finally {
      checkout.remove();
      await deleteKeysByPrefix(redis, rotatedPrefix);
    }
  });

  // It used to crash with ioredis's MaxRetriesPerRequestError, a stack and exit 1, some 35 s later.
  it('given no master key configured and Redis gone while the intake looks for data keys, then it exits 69 naming REDIS_URL, without a stack, and generates none', async () => {
    const { hostname, port } = new URL(redisUrl());
    // Past the wait for Redis at start: gone at the check's first read.
    const proxy = new VanishingProxy({ host: hostname, port: Number(port || 6379) }, /hrandfield/i);
    await proxy.start();
    const checkout = linkedCheckout();
    try {
      const intake = run(checkout.script('dist/apps/intake/src/main.js'), {
        ...baseEnv(),
        REDIS_URL: proxy.url,
        REDIS_STARTUP_TIMEOUT_MS: '1000',
        KEY_PREFIX: testKeyPrefix('start-process-master-key-check'),
        PORT: '0',
        DATA_KEY_SECRET: '',
        DATA_KEY_FILE: '',
      });
      running.push(intake.child);

      expect(await intake.exited).toBe(69);
      expect(intake.stderr).toContain(
        `intake: cannot reach Redis at redis://127.0.0.1:${proxy.port} within 1 s (connect ECONNREFUSED 127.0.0.1:${proxy.port}); check REDIS_URL`,
      );
      expect(intake.stderr.join('\n')).not.toMatch(/generated a local master key|^\s+at /m);
      expect(existsSync(checkout.dataKeyFile)).toBe(false);
    } finally {
      checkout.remove();
      await proxy.stop();
    }
  });

  // Each used to crash with ioredis's MaxRetriesPerRequestError, a stack and exit 1, 36–48 s later,
  // REDIS_STARTUP_TIMEOUT_MS ignored; in the one process the intake, already listening, was not closed.
  it.each([
    ['the intake', 'its LOG_PARTITIONS guard', 'dist/apps/intake/src/main.js', 'intake', /log-partitions/],
    ['the intake', 'its master key guard', 'dist/apps/intake/src/main.js', 'intake', /hrandfield/i],
    ['the intake', 'its eviction check', 'dist/apps/intake/src/main.js', 'intake', /maxmemory-policy/],
    ['the intake', 'its stream groups', 'dist/apps/intake/src/main.js', 'intake', /xgroup/i],
    ['the one process', "the orchestrator's stream groups (the intake listening)", 'dist/scripts/one-process.js', 'orchestrator', /xgroup[\s\S]*orchestrator/i],
  ])(
    "given Redis gone during %s's start, at %s, then it exits 69 in one line naming REDIS_URL, without a stack, within the start-up bound",
    async (_who, _step, script, service, cutsAt) => {
      const { hostname, port } = new URL(redisUrl());
      // Past the wait for Redis at start: gone at the step's command, every connection closed and none taken.
      const proxy = new VanishingProxy({ host: hostname, port: Number(port || 6379) }, cutsAt);
      await proxy.start();
      try {
        const started = run([script], { ...baseEnv(), REDIS_URL: proxy.url, REDIS_STARTUP_TIMEOUT_MS: '1000', PORT: String(await freePortRun()) });
        running.push(started.child);
        await proxy.cut;
        const cutAt = performance.now();
        // The step's bound (1 s), then closing what started: FAILED_START_CLOSE_MS (3 s) for the app, as much for those already listening.
        const exited = await withinDeadline(started.exited, 1_000 + 2 * FAILED_START_CLOSE_MS + 2_000);
        const tookMs = performance.now() - cutAt;

        expect(exited).toEqual({ value: 69 });
        expect(tookMs).toBeGreaterThanOrEqual(900);
        expect(started.stderr).toEqual([
          `${service}: cannot reach Redis at redis://127.0.0.1:${proxy.port} within 1 s (connect ECONNREFUSED 127.0.0.1:${proxy.port}); check REDIS_URL`,
        ]);
        expect(started.stdout.join('\n')).not.toMatch(/^\s+at /m);
      } finally {
        await proxy.stop();
      }
    },
  );

  it('given no master key configured and no data keys under the prefix, then the intake generates the local one, says so, and starts', async () => {
    const emptyPrefix = testKeyPrefix('start-process-local-master-key');
    const checkout = linkedCheckout();
    try {
      const port = await findFreePort();
      const intake = run(checkout.script('dist/apps/intake/src/main.js'), {
        ...baseEnv(),
        KEY_PREFIX: emptyPrefix,
        PORT: String(port),
        DATA_KEY_SECRET: '',
        DATA_KEY_FILE: '',
      });
      running.push(intake.child);

      expect(await exitedOrListening(intake.child, port)).toBe('listening');
      expect(existsSync(checkout.dataKeyFile)).toBe(true);
      expect(intake.stderr).toContain(
        `guest data: no DATA_KEY_SECRET or DATA_KEY_FILE; generated a local master key (kept in ${checkout.dataKeyFile}). ` +
          "Back it up with the Redis data: without it no guest's data can be read.",
      );
      // Stopped before its keys are deleted, which it would otherwise write again.
      intake.child.kill('SIGTERM');
      expect(await intake.exited).toBe(0);
    } finally {
      checkout.remove();
      await deleteKeysByPrefix(redis, emptyPrefix);
    }
  });

  /**
   * Starts the Odoo connector with `env` against a fake Odoo and expects it refused at start: exit 78
   * before it listens, no stack, no call reaching Odoo (refused before anything ran). Its stderr.
   */
  const refusedConnector = async (env: NodeJS.ProcessEnv): Promise<string> => {
    const odoo = await FakeOdooServer.start();
    try {
      const port = await findFreePort();
      const connector = run(['dist/apps/connector-odoo/src/main.js'], { ...baseEnv(), ...odoo.connection, PORT: String(port), ...env });
      running.push(connector.child);
      expect(await exitedOrListening(connector.child, port)).toBe('exited');
      expect(await connector.exited).toBe(78);
      const stderr = connector.stderr.join('\n');
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(odoo.calls).toHaveLength(0);
      return stderr;
    } finally {
      await odoo.close();
    }
  };

  it('given data keys wrapped under a master key it is not configured with, then the Odoo connector exits 78 naming both key ids, and never listens', async () => {
    const rotatedPrefix = testKeyPrefix('start-process-connector-master-key');
    try {
      const { otherSecret, refusal } = await keyUnderAnotherMasterKey(rotatedPrefix);

      const stderr = await refusedConnector({ KEY_PREFIX: rotatedPrefix, DATA_KEY_SECRET: otherSecret });
      expect(stderr).toMatch(/^connector-odoo: invalid configuration:$/m);
      expect(stderr).toContain(refusal);
    } finally {
      await deleteKeysByPrefix(redis, rotatedPrefix);
    }
  });

  it('given LOG_PARTITIONS other than the one the key prefix was set up with, then the Odoo connector exits 78 naming both, and never polls Odoo', async () => {
    const partitioned = testKeyPrefix('start-process-connector-partitions');
    try {
      await redis.set(`${partitioned}config:log-partitions`, '2');

      const stderr = await refusedConnector({ KEY_PREFIX: partitioned, LOG_PARTITIONS: '1' });
      expect(stderr).toMatch(/^connector-odoo: invalid configuration:\n {2}- LOG_PARTITIONS=1, but this KEY_PREFIX was set up with LOG_PARTITIONS=2/m);
    } finally {
      await deleteKeysByPrefix(redis, partitioned);
    }
  });

  it('given an ODOO_MAPPING_FILE that is missing or holds a rule without its fields, then the Odoo connector exits 78 naming it, without a stack', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'start-process-mapping-'));
    const odoo = await FakeOdooServer.start();
    try {
      const [missing, bare] = [path.join(dir, 'missing.json'), path.join(dir, 'bare.json')];
      writeFileSync(bare, '{"rules":[{"name":"x"}]}');
      const connectors = [missing, bare].map((file) =>
        run(['dist/apps/connector-odoo/src/main.js'], { ...baseEnv(), ...odoo.connection, PORT: '0', ODOO_MAPPING_FILE: file }),
      );
      running.push(...connectors.map(({ child }) => child));

      // It used to be Nest's stack trace of the provider that read the file, and exit 1.
      expect(await Promise.all(connectors.map(({ exited }) => exited))).toEqual([78, 78]);
      const [missingLines, bareLines] = connectors.map(({ stderr }) => stderr);
      expect(missingLines).toEqual([
        'connector-odoo: invalid configuration:',
        `  - ODOO_MAPPING_FILE=${JSON.stringify(missing)}: cannot be read: there is no such file`,
      ]);
      expect(bareLines[0]).toBe('connector-odoo: invalid configuration:');
      expect(bareLines).toContain(`  - ODOO_MAPPING_FILE=${JSON.stringify(bare)}: rule x: model, title and domain are needed`);
      expect(bareLines.join('\n')).not.toMatch(/^\s+at /m);
      expect(odoo.calls).toHaveLength(0);
    } finally {
      await odoo.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('given PORT=abc, then npm start says so once and exits 78, as for any bad variable', async () => {
    const start = run(['dist/scripts/start.js'], { ...baseEnv(), PORT: 'abc' });
    running.push(start.child);

    expect(await start.exited).toBe(78);
    expect(start.stderr).toEqual(['start: invalid configuration:', '  - PORT="abc" is not a port from 1 to 65535']);
  });

  it.each([
    [['--bogus'], "error: unknown option '--bogus'"],
    [['bogus'], 'error: unknown service(s): bogus'],
    // It ran one intake and said `running intake, intake`.
    [['intake', 'intake'], 'error: service(s) named more than once: intake; name each once'],
    [['--split', '--one-process'], 'error: --split and --one-process exclude each other'],
  ])('given bad usage (%j), then npm start says so and exits 2, as the CLIs do, not 1 as a crashed service', async (args, message) => {
    const start = run(['dist/scripts/start.js', ...args], baseEnv());
    running.push(start.child);

    expect(await start.exited).toBe(2);
    expect(start.stderr[0]).toContain(message);
    expect(start.stdout.filter((line) => /Started /.test(line))).toEqual([]);
  });

  it('given a LOG_FORMAT the services refuse, then npm start refuses it as a service does, with exit 78, before starting anything', async () => {
    const start = run(['dist/scripts/start.js', 'orchestrator'], { ...baseEnv(), LOG_FORMAT: 'xml', PORT: String(await freePortRun()) });
    const alone = run(['dist/apps/orchestrator/src/main.js'], { ...baseEnv(), LOG_FORMAT: 'xml' });
    running.push(start.child, alone.child);

    expect(await alone.exited).toBe(78);
    expect(await start.exited).toBe(78);
    const problem = '  - LOG_FORMAT="xml": LOG_FORMAT must be one of the following values: json, pretty';
    expect(alone.stderr).toEqual(['orchestrator: invalid configuration:', problem]);
    expect(start.stderr).toEqual(['start: invalid configuration:', problem]);
    expect(start.stdout.filter((line) => /Started /.test(line))).toEqual([]);
  });

  it('given a REDIS_URL that does not parse, then npm start refuses it as a service does, with exit 78, before resolving Redis or starting anything', async () => {
    const start = run(['dist/scripts/start.js'], { ...baseEnv(), REDIS_URL: 'notaurl', PORT: String(await freePortRun()) });
    running.push(start.child);

    expect(await start.exited).toBe(78);
    expect(start.stderr).toEqual(['start: invalid configuration:', '  - REDIS_URL="notaurl": REDIS_URL must look like redis://host:port']);
    expect(start.stdout.filter((line) => /Using Redis|Started /.test(line))).toEqual([]);
  });

  // The list --help and the README give (launcherCheckedVariables) is what the launcher refuses: each one, bad, ends it with 78.
  it.each(launcherCheckedVariables())('given a bad %s, then npm start refuses it with exit 78 naming it, before starting anything', async (name) => {
    const bad: Record<string, string> = { KEY_PREFIX: 'no-colon', LOG_FORMAT: 'xml', REDIS_URL: 'notaurl', REDIS_CLUSTER_NODES: 'not-a-node' };
    // CONNECTOR_PORT is read only when ODOO_URL runs the connector; no Odoo is reached, as nothing starts.
    const odoo = name === CONNECTOR_PORT_VARIABLE ? { ODOO_URL: 'http://127.0.0.1:1' } : {};
    const start = run(['dist/scripts/start.js'], { ...baseEnv(), ...odoo, [name]: bad[name] ?? 'abc' });
    running.push(start.child);

    expect(await start.exited).toBe(78);
    expect(start.stderr).toEqual(['start: invalid configuration:', expect.stringMatching(new RegExp(`^  - ${name}\\b`))]);
    expect(start.stdout.filter((line) => /Using Redis|Started /.test(line))).toEqual([]);
  });

  it('given a bad variable only the services check (MAX_ATTEMPTS=abc), then npm start calls the one process stopped on its configuration, not a crash with a rest to stop', async () => {
    const start = run(['dist/scripts/start.js'], { ...baseEnv(), MAX_ATTEMPTS: 'abc', PORT: String(await freePortRun()), LOG_FORMAT: 'json' });
    running.push(start.child);

    expect(await start.exited).toBe(78);
    expect(start.stdout.filter((line) => line.includes('one-process') && !line.startsWith('one-process'))).toEqual([
      expect.stringMatching(/^launcher {5}\| Started one-process \(pid \d+\)$/),
      'launcher     | one-process stopped: configuration error (exit 78), see above',
    ]);
  });

  it('given a REDIS_URL with a password, then npm start never prints it, and says which KEY_PREFIX it runs with', async () => {
    const withPassword = new URL(redisUrl());
    withPassword.password = 'start-process-redis-password';
    const start = run(['dist/scripts/start.js'], { ...baseEnv(), REDIS_URL: withPassword.toString(), PORT: String(await freePortRun()), LOG_FORMAT: 'json' });
    running.push(start.child);

    await readyLine(start);
    const shown = withPassword.toString().replace(':start-process-redis-password@', '***@');
    expect(start.stdout).toContainEqual(
      `launcher     | Redis at ${shown}, KEY_PREFIX=${prefix}; running intake, orchestrator, executor, evaluator in one process. Press Ctrl-C to stop.`,
    );
    start.child.kill('SIGINT');
    expect(await start.exited).toBe(0);
    expect([...start.stdout, ...start.stderr].join('\n')).not.toContain('start-process-redis-password');
  });

  it('given one Ctrl-C delivered twice (the terminal to the process group, then npm forwarding it), then npm start answers it once and exits 0', async () => {
    const start = run(['dist/scripts/start.js'], { ...baseEnv(), PORT: String(await freePortRun()), LOG_FORMAT: 'json' });
    running.push(start.child);

    await waitFor(async () => start.stdout.find((line) => line.includes('Press Ctrl-C to stop.')) ?? exitedEarly(start), {
      timeoutMs: 60_000,
      intervalMs: 50,
      what: "npm start's running line",
    });
    // npm's copy comes right after the terminal's, once the kernel has delivered that one to the
    // launcher (two pending at once would merge into one): well within the launcher's window
    // however busy the machine, where waiting to read its answer could take longer than the window.
    const pid = start.child.pid ?? 0;
    start.child.kill('SIGINT');
    untilDelivered(pid, 'SIGINT');
    start.child.kill('SIGINT');

    expect(await start.exited).toBe(0);
    expect(start.stdout.filter((line) => line.includes('SIGINT'))).toEqual(['launcher     | SIGINT received, stopping']);
  });

  it('given PORT and --split, then npm start runs the intake on it and the others on PORT+1..3, and prints one ready line without route noise', async () => {
    const port = await freePortRun();
    const start = run(['dist/scripts/start.js', '--split'], { ...baseEnv(), PORT: String(port), LOG_FORMAT: '' });
    running.push(start.child);

    const ready = await readyLine(start);
    expect(ready).toMatch(
      new RegExp(
        `^launcher +\\| Ready: API http://localhost:${port}/api, docs http://localhost:${port}/docs, console http://localhost:${port}/console/; send Authorization: Bearer <key> with one of API_KEYS$`,
      ),
    );
    for (const offset of [0, 1, 2, 3]) {
      const response = await fetch(`http://127.0.0.1:${port + offset}/health/ready`);
      expect(response.status).toBe(200);
    }
    const output = start.stdout.join('\n');
    expect(output).toMatch(new RegExp(`intake +\\| .*intake listening on port ${port}`));
    expect(output).toMatch(new RegExp(`evaluator +\\| .*evaluator listening on port ${port + 3}`));
    expect(output).not.toMatch(/Mapped \{|dependencies initialized|successfully started/);

    start.child.kill('SIGINT');
    expect(await start.exited).toBe(0);
    expect(start.stderr.join('\n')).not.toMatch(/EADDRINUSE|^\s+at /m);
  });

  it("given PORT and one service alone (npm run start:orchestrator), then it listens on PORT+1, as docs/operations.md says: PORT stays the intake's", async () => {
    const port = await freePortRun();
    const start = run(['dist/scripts/start.js', 'orchestrator'], { ...baseEnv(), PORT: String(port), LOG_FORMAT: 'json' });
    running.push(start.child);

    expect(await readyLine(start)).toMatch(new RegExp(`Ready: orchestrator on port ${port + 1}$`));
    expect((await fetch(`http://127.0.0.1:${port + 1}/health/ready`)).status).toBe(200);
    start.child.kill('SIGINT');
    expect(await start.exited).toBe(0);
  });

  it('given LISTEN_HOST, then every service listens on that address alone, and the ready line names it', async () => {
    // A loopback address of its own: the services are not reached on 127.0.0.1 (nor on any other interface).
    const port = await freePortRun();
    const start = run(['dist/scripts/start.js'], { ...baseEnv(), PORT: String(port), LISTEN_HOST: '127.0.0.2' });
    running.push(start.child);

    expect(await readyLine(start)).toContain(`API http://127.0.0.2:${port}/api`);
    for (const offset of [0, 1, 2, 3]) {
      expect((await fetch(`http://127.0.0.2:${port + offset}/health/ready`)).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${port + offset}/health/ready`)).rejects.toThrow();
    }
    start.child.kill('SIGINT');
    expect(await start.exited).toBe(0);
  });

  it('given no --split, then npm start runs the four services in one process, each on its port, runs a mission, and stops cleanly', async () => {
    const port = await freePortRun();
    const start = run(['dist/scripts/start.js'], { ...baseEnv(), PORT: String(port), LOG_FORMAT: 'json' });
    running.push(start.child);

    await readyLine(start);
    const started = start.stdout.filter((line) => /Started \S+ \(pid \d+\)/.test(line));
    expect(started).toEqual([expect.stringMatching(/Started one-process \(pid \d+\)/)]);
    for (const offset of [0, 1, 2, 3]) expect((await fetch(`http://127.0.0.1:${port + offset}/health/ready`)).status).toBe(200);

    const headers = { authorization: `Bearer ${API_KEYS.split(':')[1]}`, 'content-type': 'application/json' };
    const mission = { type: 'maintenance', title: 'Leaking tap in 112', description: 'Drips all night.', priority: 'normal', payload: { room: '112' } };
    const created = (await (await fetch(`http://127.0.0.1:${port}/api/missions`, { method: 'POST', headers, body: JSON.stringify(mission) })).json()) as {
      id: string;
    };
    await waitFor(
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${port}/api/missions/${created.id}`, { headers })).json()) as { status: string };
        return body.status === 'succeeded';
      },
      { timeoutMs: 30_000, what: 'the mission to succeed in one process' },
    );

    start.child.kill('SIGINT');
    expect(await start.exited).toBe(0);
    expect(start.stderr.join('\n')).not.toMatch(/^\s+at /m);
  });

  it('given the launcher is killed outright (kill -9), then its services stop too instead of serving on as orphans', async () => {
    const port = await freePortRun();
    const start = run(['dist/scripts/start.js'], { ...baseEnv(), PORT: String(port), LOG_FORMAT: 'json' });
    running.push(start.child);
    await readyLine(start);
    const pid = Number(/Started one-process \(pid (\d+)\)/.exec(start.stdout.join('\n'))?.[1]);
    try {
      expect(isAlive(pid)).toBe(true);
      start.child.kill('SIGKILL');
      await start.exited;

      await waitFor(async () => !isAlive(pid), { timeoutMs: 15_000, intervalMs: 100, what: 'the one process to stop after its launcher died' });
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('given --split and a service killed outright (kill -9), then the launcher restarts it alone, and missions before and after succeed once', async () => {
    const port = await freePortRun();
    // A message the killed executor held goes to its successor after 2 s instead of 30.
    const start = run(['dist/scripts/start.js', '--split'], { ...baseEnv(), PORT: String(port), LOG_FORMAT: 'json', STREAM_CLAIM_IDLE_MS: '2000' });
    running.push(start.child);
    await readyLine(start);
    const pids = startedPids(start.stdout);
    expect(Object.keys(pids).sort()).toEqual(['evaluator', 'executor', 'intake', 'orchestrator']);

    const before = await submitMission(port, 'Leaking tap in 112');
    await killedAndBack(start, 'executor', pids.executor);
    expect((await fetch(`http://127.0.0.1:${port + 2}/health/ready`)).status).toBe(200);

    const after = await submitMission(port, 'Broken lamp in 113');
    for (const id of [before, after]) {
      await waitFor(async () => (await missionStatus(port, id)) === 'succeeded', { timeoutMs: 60_000, what: `mission ${id} to succeed` });
      const events = (await (await fetch(`http://127.0.0.1:${port}/api/missions/${id}/events`, { headers: API_HEADERS })).json()) as { type: string }[];
      expect(events.filter(({ type }) => type === 'MissionCompleted')).toHaveLength(1);
    }
    // The others ran on untouched, each still the process it was.
    for (const name of ['intake', 'orchestrator', 'evaluator'] as const) expect(() => process.kill(pids[name], 0)).not.toThrow();
    expect(start.stdout.filter((line) => /Started (intake|orchestrator|evaluator) /.test(line))).toHaveLength(3);

    start.child.kill('SIGINT');
    expect(await start.exited).toBe(0);
  }, 120_000);

  it('given --split and ODOO_URL, when the Odoo connector is killed outright (kill -9) after it listened, then the launcher restarts it alone, as a service', async () => {
    const port = await freePortRun();
    const odoo = await FakeOdooServer.start();
    try {
      const start = run(['dist/scripts/start.js', '--split'], { ...baseEnv(), ...odoo.connection, PORT: String(port), LOG_FORMAT: 'json' });
      running.push(start.child);
      // The ready line waits for the four services, not for the connector (its readiness is Odoo's).
      expect(await readyLine(start)).toContain('Ready: API');
      await waitFor(async () => start.stdout.find((line) => line.includes(`connector-odoo listening on port ${port + 4}`)) ?? exitedEarly(start), {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: 'the connector to listen',
      });
      const pids = startedPids(start.stdout);
      expect(Object.keys(pids).sort()).toEqual(['connector-odoo', 'evaluator', 'executor', 'intake', 'orchestrator']);

      // It used to be taken for a failed start: "connector-odoo exited unexpectedly (signal SIGKILL); stopping the rest".
      await killedAndBack(start, 'connector-odoo', pids['connector-odoo']);
      expect((await fetch(`http://127.0.0.1:${port + 4}/health`)).status).toBe(200);
      // The services ran on untouched, each still the process it was.
      for (const name of ['intake', 'orchestrator', 'executor', 'evaluator'] as const) expect(isAlive(pids[name])).toBe(true);
      expect(start.stdout.filter((line) => /Started (intake|orchestrator|executor|evaluator) /.test(line))).toHaveLength(4);

      start.child.kill('SIGINT');
      expect(await start.exited).toBe(0);
    } finally {
      await odoo.close();
    }
  }, 120_000);

  it('given --split and a service that keeps failing right after its restart (its port taken), then the launcher gives up on the fifth failure in a minute and exits 1', async () => {
    const port = await freePortRun();
    const start = run(['dist/scripts/start.js', '--split'], { ...baseEnv(), PORT: String(port), LOG_FORMAT: 'json' });
    running.push(start.child);
    await readyLine(start);
    const pids = startedPids(start.stdout);

    // Once the orchestrator is gone, something else takes its port, so each restart fails to listen.
    process.kill(pids.orchestrator, 'SIGKILL');
    const holder: Server = createServer((socket) => socket.destroy());
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          holder.once('error', () => resolve(false));
          holder.listen(port + 1, '0.0.0.0', () => resolve(true));
        }),
      { timeoutMs: 10_000, intervalMs: 50, what: "the orchestrator's port to be free" },
    );
    try {
      expect(await start.exited).toBe(1);
      const launcher = start.stdout.filter((line) => /^launcher +\| orchestrator /.test(line));
      expect(launcher).toEqual([
        'launcher     | orchestrator exited unexpectedly (signal SIGKILL); restarting it in 1 s (failure 1 of 5 within 60 s gives up)',
        'launcher     | orchestrator exited unexpectedly (code 1); restarting it in 2 s (failure 2 of 5 within 60 s gives up)',
        'launcher     | orchestrator exited unexpectedly (code 1); restarting it in 4 s (failure 3 of 5 within 60 s gives up)',
        'launcher     | orchestrator exited unexpectedly (code 1); restarting it in 8 s (failure 4 of 5 within 60 s gives up)',
        'launcher     | orchestrator exited unexpectedly (code 1), failure 5 within 60 s: a crash loop; giving up, stopping the rest',
      ]);
      expect(start.stdout.filter((line) => /cannot listen on port/.test(line))).toHaveLength(4);
      // The others were never restarted, and are stopped now.
      for (const name of ['intake', 'executor', 'evaluator'] as const) expect(() => process.kill(pids[name], 0)).toThrow();
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 120_000);

  it('given --keep-running, then the demo prints a key that can read the dead-letter queue, and how to purge its keys; a schedule made with it goes with the run', async () => {
    const { dir, fixtures } = oneMissionFixtures('demo-keep-running-');
    const port = await freePortRun();
    const demo = run(['dist/scripts/demo.js', '--keep-running', '--fixtures', fixtures, '--schedules', ''], { ...baseEnv(), PORT: String(port), API_KEYS: '' });
    running.push(demo.child);
    try {
      const keyLine = await waitFor(
        async () => demo.stdout.find((line) => line.includes('operator API key')) ?? (demo.child.exitCode !== null ? 'exited' : undefined),
        {
          timeoutMs: 60_000,
          intervalMs: 100,
          what: "the demo's key line",
        },
      );
      const key = /: (\S+)$/.exec(keyLine)?.[1] ?? '';
      expect(demo.stdout.join('\n')).toContain(`npm run replay -- purge --prefix ${prefix} --yes`);

      const dlq = await fetch(`http://127.0.0.1:${port}/api/dlq`, { headers: { authorization: `Bearer ${key}` } });
      expect(dlq.status).toBe(200);
      await dlq.arrayBuffer();
      // A schedule the run's key made, as a create whose answer the demo never got was: unknown to the demo.
      const schedule = JSON.parse(readFileSync(path.join(ROOT, 'fixtures', 'schedules.json'), 'utf8'))[0] as Record<string, unknown>;
      const created = await fetch(`http://127.0.0.1:${port}/api/schedules`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...schedule, cron: '0 6 1 1 *' }),
      });
      expect(created.status).toBe(201);
      await created.arrayBuffer();

      demo.child.kill('SIGINT');
      // The run itself went as expected; Ctrl-C only ends the keep-running wait.
      expect(await demo.exited).toBe(0);
      // It stayed under the prefix, its key gone with the run.
      expect(await redis.hlen(`${prefix}{s}:schedules`)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('given --keep-running with a recurring schedule under a KEY_PREFIX, when Ctrl-C ends it, then the schedule is deleted before the system stops', async () => {
    const { dir, fixtures } = oneMissionFixtures('demo-undo-');
    const port = await freePortRun();
    const demo = run(['dist/scripts/demo.js', '--keep-running', '--fixtures', fixtures], { ...baseEnv(), PORT: String(port), API_KEYS: '' });
    running.push(demo.child);
    try {
      await waitFor(async () => demo.stdout.find((line) => line.includes('operator API key')) ?? (demo.child.exitCode !== null ? 'exited' : undefined), {
        timeoutMs: 120_000,
        intervalMs: 100,
        what: "the demo's key line, after the schedule fired once",
      });
      const schedules = `${prefix}{s}:schedules`;
      expect(await redis.hlen(schedules)).toBe(1);

      demo.child.kill('SIGINT');
      expect(await demo.exited).toBe(0);
      // It stayed under the prefix, firing every minute at the next npm start with it.
      expect(await redis.hlen(schedules)).toBe(0);
      expect(demo.stdout.join('\n')).not.toContain('could not undo');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('given Ctrl-C while the demo creates its schedules, then none is left under the KEY_PREFIX, the one being created included', async () => {
    const { dir, fixtures } = oneMissionFixtures('demo-undo-creating-');
    // Many schedules that never fire during the test: the demo is creating one whenever the signal comes.
    const schedule = { ...(JSON.parse(readFileSync(path.join(ROOT, 'fixtures', 'schedules.json'), 'utf8')) as object[])[0], cron: '0 6 1 1 *' };
    const schedulesFile = path.join(dir, 'schedules.json');
    writeFileSync(schedulesFile, JSON.stringify(Array.from({ length: 300 }, () => schedule)));
    const demo = run(['dist/scripts/demo.js', '--fixtures', fixtures, '--schedules', schedulesFile], { ...baseEnv(), PORT: String(await freePortRun()) });
    running.push(demo.child);
    const schedules = `${prefix}{s}:schedules`;
    try {
      await waitFor(async () => ((await redis.hlen(schedules)) >= 5 ? true : demo.child.exitCode !== null ? 'exited' : undefined), {
        timeoutMs: 60_000,
        intervalMs: 20,
        what: 'the demo to be creating its schedules',
      });
      // Still creating as the signal goes: with all 300 made first, no create would be under way to cut off.
      expect(await redis.hlen(schedules)).toBeLessThan(300);
      demo.child.kill('SIGINT');
      expect(await demo.exited).toBe(130);
      // The create under way when the signal came was cut off on the demo's side and made all the
      // same, with an id the demo never learnt: it stayed, firing at the next npm start.
      expect(await redis.hlen(schedules)).toBe(0);
      expect(demo.stdout.join('\n')).not.toContain('could not undo');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('given LISTEN_HOST, then the demo reaches its services at that address alone and runs its missions there', async () => {
    const { dir, fixtures } = oneMissionFixtures('demo-listen-host-');
    const port = await freePortRun();
    // A loopback address of its own, as in the npm start test above: nothing answers on 127.0.0.1.
    const demo = run(['dist/scripts/demo.js', '--fixtures', fixtures, '--schedules', ''], { ...baseEnv(), PORT: String(port), LISTEN_HOST: '127.0.0.2' });
    running.push(demo.child);
    try {
      // It used to wait on 127.0.0.1 until its 60 s for readiness ran out, then exit 1.
      expect(await demo.exited).toBe(0);
      expect(demo.stdout.join('\n')).toContain(`intake http://127.0.0.2:${port}`);
      expect(demo.stdout.join('\n')).toMatch(/Expected vs actual: 1\/1 as expected/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('given KEY_PREFIX, then the demo keeps the keys under it and says how to purge them', async () => {
    const { dir, fixtures } = oneMissionFixtures('demo-own-prefix-');
    const demo = run(['dist/scripts/demo.js', '--fixtures', fixtures, '--schedules', ''], { ...baseEnv(), PORT: String(await freePortRun()) });
    running.push(demo.child);
    try {
      expect(await demo.exited).toBe(0);
      // It used to end without a word about them.
      expect(demo.stdout.join('\n')).toContain(
        `KEY_PREFIX=${prefix} was given, so its keys stay in Redis; npm run replay -- purge --prefix ${prefix} --yes deletes them.`,
      );
      expect(await redis.exists(`${prefix}config:log-partitions`)).toBe(1);
      // The demo resolves Redis and hands it to the launcher, which used to resolve and report it again.
      expect([...demo.stdout, ...demo.stderr].filter((line) => /Using .*Redis/.test(line))).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('given a fixture meant to be dead-lettered, then the demo says so before the warning the services log for it, and ends 0', async () => {
    const { dir, fixtures } = oneMissionFixtures('demo-dead-letter-', (fixture) => fixture.payload?.expectedOutcome === 'dead_lettered');
    const demo = run(['dist/scripts/demo.js', '--fixtures', fixtures, '--schedules', ''], { ...baseEnv(), PORT: String(await freePortRun()) });
    running.push(demo.child);
    try {
      expect(await demo.exited).toBe(0);
      const out = demo.stdout.join('\n');
      // It used to print the services' warning with nothing to say the failure was the point.
      const notice = out.indexOf('1 of them is meant to be dead-lettered (expectedOutcome in the fixtures): the services log each as a warning.');
      expect(notice).toBeGreaterThan(-1);
      expect(out.indexOf('mission dead-lettered')).toBeGreaterThan(notice);
      expect(out).toMatch(/Expected vs actual: 1\/1 as expected \(0 to succeed, 1 to be dead-lettered\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('given the launcher writes to a terminal, then the services log pretty lines, not JSON', async () => {
    const lines: string[] = [];
    const output = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        callback();
      },
    });
    const port = await findFreePort();
    const system = await launchSystem({
      services: ['evaluator'],
      env: { ...baseEnv(), LOG_FORMAT: '' },
      ports: { intake: 0, orchestrator: 0, executor: 0, evaluator: port },
      dataDir: path.join(ROOT, '.data'),
      rootDir: ROOT,
      log: () => undefined,
      output,
      color: false,
      pretty: true,
    });
    try {
      const line = await waitFor(async () => lines.find((text) => text.includes('evaluator listening on port')), {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: "the evaluator's listening line",
      });
      expect(line).toMatch(/^evaluator +\| \[\d\d:\d\d:\d\d\.\d{3}\] INFO.*evaluator listening on port/);
      expect(lines.filter((text) => /\| \{"level"/.test(text))).toEqual([]);
    } finally {
      await system.stop();
    }
  });
});
