#!/usr/bin/env node
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Command, InvalidArgumentError } from 'commander';
import Redis from 'ioredis';
import { findOnPath, LOCAL_REDIS_HOST, logTail, pingRedis, redisServerAddress, sendCommand, findFreePort } from '@app/redis';

/**
 * redis-cluster: a throw-away Redis Cluster of N masters (no replicas, unless a test asks) on free loopback ports,
 * with its files in a fresh temp dir, for tests and local runs against REDIS_CLUSTER_NODES.
 *
 *   start [--masters 3]            runs until Ctrl-C / SIGTERM, then stops the nodes and deletes the dir
 *   start --detach [--state file]  leaves the nodes running, records them in the state file and exits
 *   stop [--state file]            stops the nodes recorded there and deletes their dir
 *
 * stdout gets one line, `REDIS_CLUSTER_NODES=host:port,…`; progress goes to stderr.
 */

export interface LocalClusterNode {
  port: number;
  /** Cluster bus port, chosen free as well: the default (port + 10000) may be taken or beyond 65535. */
  busPort: number;
  pid: number;
}

/** What stop needs, and what `start --detach` writes to its state file. */
export interface LocalClusterState {
  dir: string;
  nodes: LocalClusterNode[];
}

export interface LocalCluster extends LocalClusterState {
  /** The value for REDIS_CLUSTER_NODES. */
  seeds: string;
  /** Idempotent: stops every node and deletes the dir. */
  stop(): Promise<void>;
}

export interface StartLocalClusterOptions {
  /** Default 3, the fewest redis-cli --cluster create accepts. */
  masters?: number;
  /** Replicas of each master, default 0: a test of what a replica's failure does to the clients. */
  replicas?: number;
  log?: (line: string) => void;
  /** Whole start: nodes answering, cluster created, every node at cluster_state:ok. Default 30 s. */
  timeoutMs?: number;
  /** The nodes outlive this process (start --detach); otherwise they die with it. */
  detached?: boolean;
  /**
   * cluster-node-timeout, default Redis's 15 s: how long a master may be silent before the others
   * take it for failed and its replica is promoted. A failover test lowers it to see one in seconds.
   */
  nodeTimeoutMs?: number;
}

const MIN_MASTERS = 3;
const ALL_SLOTS = 16_384;
const PORT_CLASH_RETRIES = 3;
const STOP_GRACE_MS = 5_000;
const POLL_MS = 50;
const DEFAULT_TIMEOUT_MS = 30_000;

export function seedsOf(nodes: readonly LocalClusterNode[]): string {
  return nodes.map((node) => `${LOCAL_REDIS_HOST}:${node.port}`).join(',');
}

export async function startLocalCluster(options: StartLocalClusterOptions = {}): Promise<LocalCluster> {
  const masters = options.masters ?? MIN_MASTERS;
  if (!Number.isInteger(masters) || masters < MIN_MASTERS) throw new Error(`a cluster needs at least ${MIN_MASTERS} masters, got ${masters}`);
  const replicas = options.replicas ?? 0;
  if (!Number.isInteger(replicas) || replicas < 0) throw new Error(`replicas per master must be a whole number, got ${replicas}`);
  const log = options.log ?? (() => undefined);
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const server = await requireBinary('redis-server');
  const cli = await requireBinary('redis-cli');

  const dir = await mkdtemp(path.join(tmpdir(), 'brain-redis-cluster-'));
  const state: LocalClusterState = { dir, nodes: [] };
  // Covers a caller that never calls stop(), e.g. a test run that is interrupted.
  const killOnExit = () => state.nodes.forEach((node) => signal(node.pid, 'SIGKILL'));
  if (!options.detached) process.once('exit', killOnExit);
  try {
    for (let index = 0; index < masters * (1 + replicas); index++) state.nodes.push(await startNode(server, dir, options, deadline));
    log(`Started ${state.nodes.length} redis-server nodes on ${seedsOf(state.nodes)} (files in ${dir})`);
    await createCluster(cli, state.nodes, replicas, deadline);
    await waitUntilClusterOk(state.nodes, masters * replicas, deadline);
    log('Cluster state ok on every node');
  } catch (error) {
    process.removeListener('exit', killOnExit);
    await stopLocalCluster(state);
    throw error;
  }

  let stopping: Promise<void> | undefined;
  return {
    ...state,
    seeds: seedsOf(state.nodes),
    stop: () => {
      stopping ??= (async () => {
        process.removeListener('exit', killOnExit);
        await stopLocalCluster(state);
      })();
      return stopping;
    },
  };
}

/** SHUTDOWN NOSAVE each node, SIGKILL the ones that outlast the grace period, then delete the dir. */
export async function stopLocalCluster(state: LocalClusterState): Promise<void> {
  await Promise.all(
    state.nodes.map(async (node) => {
      if (!(await isNodeProcess(node))) return;
      await sendCommand(node.port, 'SHUTDOWN NOSAVE', 1_000);
      if (await exitsWithin(node, STOP_GRACE_MS)) return;
      signal(node.pid, 'SIGKILL');
      await exitsWithin(node, STOP_GRACE_MS);
    }),
  );
  await rm(state.dir, { recursive: true, force: true });
}

async function requireBinary(name: string): Promise<string> {
  const found = await findOnPath(name);
  if (!found) throw new Error(`${name} is not on PATH; install Redis 7 (Debian/Ubuntu: apt-get install redis-server, which brings redis-cli too)`);
  return found;
}

async function startNode(binary: string, dir: string, options: StartLocalClusterOptions, deadline: number): Promise<LocalClusterNode> {
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort(LOCAL_REDIS_HOST);
    const busPort = await findFreePort(LOCAL_REDIS_HOST);
    const logFile = path.join(dir, `redis-${port}.log`);
    const args = [
      '--port',
      String(port),
      '--cluster-port',
      String(busPort),
      '--bind',
      LOCAL_REDIS_HOST,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      path.join(dir, `nodes-${port}.conf`),
      '--appendonly',
      'no',
      '--save',
      '',
      '--dir',
      dir,
      // Every second instead of every 10: a replica of an empty master is in the slot map after the first.
      '--repl-ping-replica-period',
      '1',
      '--daemonize',
      'no',
      // A file, not a pipe: nobody drains a pipe of a detached node, and a full pipe would stall it.
      '--logfile',
      logFile,
      ...(options.nodeTimeoutMs ? ['--cluster-node-timeout', String(options.nodeTimeoutMs)] : []),
    ];
    const child = spawn(binary, args, { cwd: dir, detached: Boolean(options.detached), stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    // Never keeps a test runner alive on its own; stop() or the exit hook ends the node.
    child.unref();
    if (child.pid === undefined) throw new Error(`redis-server on port ${port} started without a pid`);
    const node = { port, busPort, pid: child.pid };
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    let answered = false;
    while (!answered && !exited() && Date.now() < deadline) {
      answered = await pingRedis(LOCAL_REDIS_HOST, port, 250);
      if (!answered) await sleep(POLL_MS);
    }
    if (answered) return node;

    const timedOut = !exited();
    if (timedOut) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    const tail = await logTail(logFile, 0);
    if (!timedOut && /address already in use/i.test(tail) && attempt < PORT_CLASH_RETRIES) continue;
    const what = timedOut ? 'did not answer PING in time' : `exited (code ${child.exitCode}, signal ${child.signalCode})`;
    throw new Error(`redis-server on port ${port} ${what}. Last lines of ${logFile}:\n${tail || '(empty)'}`);
  }
}

async function createCluster(cli: string, nodes: readonly LocalClusterNode[], replicas: number, deadline: number): Promise<void> {
  const addresses = nodes.map((node) => `${LOCAL_REDIS_HOST}:${node.port}`);
  const args = ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'];
  try {
    await promisify(execFile)(cli, args, { timeout: Math.max(deadline - Date.now(), 1_000) });
  } catch (error) {
    const output = error instanceof Error && 'stdout' in error && 'stderr' in error ? `${String(error.stdout)}${String(error.stderr)}` : String(error);
    throw new Error(`redis-cli --cluster create failed:\n${output.trim()}`);
  }
}

/** Every node must agree, on its replicas too: a client may load the slot map from any of them. */
async function waitUntilClusterOk(nodes: readonly LocalClusterNode[], replicas: number, deadline: number): Promise<void> {
  const clients = nodes.map(
    (node) => new Redis({ host: LOCAL_REDIS_HOST, port: node.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null }),
  );
  clients.forEach((client) => client.on('error', () => undefined));
  let last = '';
  try {
    while (Date.now() < deadline) {
      const infos = await Promise.all(clients.map((client) => clusterInfo(client)));
      if (infos.every((info) => isSettled(info, nodes.length, replicas))) return;
      last = infos.map((info, index) => `${nodes[index].port}: ${summary(info)}`).join('; ');
      await sleep(POLL_MS);
    }
    throw new Error(`the cluster did not reach cluster_state:ok on every node in time (${last})`);
  } finally {
    clients.forEach((client) => client.disconnect());
  }
}

async function clusterInfo(client: Redis): Promise<Map<string, string>> {
  try {
    if (client.status === 'wait' || client.status === 'end') await client.connect();
    const text = String(await client.call('CLUSTER', 'INFO'));
    // The slot map a client loads lists a replica only once it has replicated something (a
    // non-zero offset), which with an empty master takes the master's first replication PING.
    const ranges = (await client.call('CLUSTER', 'SLOTS')) as unknown[][];
    const replicas = ranges.reduce((count, range) => count + Math.max(range.length - 3, 0), 0);
    return new Map([
      ...text
        .split('\r\n')
        .filter(Boolean)
        .map((line) => line.split(':', 2) as [string, string]),
      ['replicas_known', String(replicas)],
    ]);
  } catch {
    client.disconnect();
    return new Map();
  }
}

function isSettled(info: Map<string, string>, nodeCount: number, replicas: number): boolean {
  return (
    info.get('cluster_state') === 'ok' &&
    info.get('cluster_slots_ok') === String(ALL_SLOTS) &&
    info.get('cluster_known_nodes') === String(nodeCount) &&
    info.get('replicas_known') === String(replicas)
  );
}

function summary(info: Map<string, string>): string {
  if (info.size === 0) return 'no answer';
  return ['cluster_state', 'cluster_slots_ok', 'cluster_known_nodes', 'replicas_known'].map((key) => `${key}=${info.get(key)}`).join(' ');
}

/**
 * A pid recorded in a state file may have been reused; redis-server's process title names its port.
 * Without /proc (macOS) a node counts as running while its port answers.
 */
async function isNodeProcess(node: LocalClusterNode): Promise<boolean> {
  if (!existsSync('/proc')) return pingRedis(LOCAL_REDIS_HOST, node.port, 250);
  return (await redisServerAddress(node.pid))?.endsWith(`:${node.port}`) ?? false;
}

async function exitsWithin(node: LocalClusterNode, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (await isNodeProcess(node)) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

const defaultStateFile = path.resolve(__dirname, '..', '..', '.data', 'redis-cluster.json');

function parseMasters(value: string): number {
  const masters = Number(value);
  if (!Number.isInteger(masters) || masters < MIN_MASTERS || masters > 16) throw new InvalidArgumentError(`a whole number from ${MIN_MASTERS} to 16`);
  return masters;
}

/**
 * Stays subscribed after the first signal: a second one (Ctrl-C twice, or `timeout` signalling both
 * the process and its group) would otherwise end the process mid-stop and leave the temp dir behind.
 */
function untilSignal(log: (line: string) => void): Promise<void> {
  // Signal listeners do not keep Node running, and the nodes are unref'd: without this timer the
  // process would exit as soon as the cluster is up, and its exit hook would kill the nodes.
  const keepAlive = setInterval(() => undefined, 60_000);
  let received = false;
  return new Promise((resolve) => {
    const onSignal = (name: NodeJS.Signals) => {
      if (received) return log(`${name} again: still stopping`);
      received = true;
      clearInterval(keepAlive);
      resolve();
    };
    for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(name, onSignal);
  });
}

async function main(argv: string[]): Promise<void> {
  const log = (line: string) => process.stderr.write(`[redis-cluster] ${line}\n`);
  const program = new Command().name('redis-cluster').description('A local Redis Cluster of masters on free loopback ports').showHelpAfterError();

  program
    .command('start')
    .description('start the nodes and create the cluster; prints REDIS_CLUSTER_NODES=… on stdout')
    .option('--masters <n>', 'number of masters', parseMasters, MIN_MASTERS)
    .option('--detach', 'leave the nodes running and exit (stop them with `stop`)', false)
    .option('--state <file>', 'where --detach records the nodes', defaultStateFile)
    .action(async (options: { masters: number; detach: boolean; state: string }) => {
      if (options.detach && existsSync(options.state)) {
        throw new Error(`${options.state} records a cluster started earlier; run \`redis-cluster stop --state ${options.state}\` first`);
      }
      // Listening from the start: a signal during startup would otherwise end this process at once
      // and orphan the nodes already running.
      const signalled = options.detach ? undefined : untilSignal(log);
      const cluster = await startLocalCluster({ masters: options.masters, log, detached: options.detach });
      if (!signalled) {
        await mkdir(path.dirname(options.state), { recursive: true });
        await writeFile(options.state, `${JSON.stringify({ dir: cluster.dir, nodes: cluster.nodes } satisfies LocalClusterState, null, 2)}\n`);
        log(`Nodes recorded in ${options.state}`);
        process.stdout.write(`REDIS_CLUSTER_NODES=${cluster.seeds}\n`);
        return;
      }
      process.stdout.write(`REDIS_CLUSTER_NODES=${cluster.seeds}\n`);
      log('Running; Ctrl-C stops the cluster and deletes its files');
      await signalled;
      log('Stopping');
      await cluster.stop();
    });

  program
    .command('stop')
    .description('stop a cluster started with --detach and delete its files')
    .option('--state <file>', 'the state file written by start --detach', defaultStateFile)
    .action(async (options: { state: string }) => {
      if (!existsSync(options.state)) throw new Error(`${options.state} does not exist; no detached cluster is recorded`);
      const state = JSON.parse(await readFile(options.state, 'utf8')) as LocalClusterState;
      await stopLocalCluster(state);
      await rm(options.state, { force: true });
      log(`Stopped ${seedsOf(state.nodes)} and deleted ${state.dir}`);
    });

  await program.parseAsync(argv, { from: 'user' });
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`redis-cluster: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
