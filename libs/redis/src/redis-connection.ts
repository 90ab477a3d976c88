import { EventEmitter } from 'node:events';
import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import { DEFAULT_REDIS_LIVENESS_TIMEOUT_MS, parseClusterNodes } from '@app/config';
import { ConnectionLoss } from './connection-loss';

/** A client for one Redis server or for a Redis Cluster; both speak the same commands. */
export type RedisConnection = Redis | Cluster;

/** Where Redis is: the two variables of the Environment class, so an Environment fits as it is. */
export interface RedisTarget {
  REDIS_URL: string;
  /** Comma-separated `host:port` seeds; when set (non-blank) a Cluster client is built and REDIS_URL is ignored. */
  REDIS_CLUSTER_NODES?: string;
  /** How long a connection waits for Redis to answer anything before it reconnects; unset, DEFAULT_REDIS_LIVENESS_TIMEOUT_MS. */
  REDIS_LIVENESS_TIMEOUT_MS?: number;
}

export interface RedisConnectionOptions {
  /** Shows up in CLIENT LIST, so an operator can tell the services' connections apart. */
  name: string;
  /**
   * For connections that sit in blocking reads: commands wait for a reconnect instead of failing.
   * Give every blocking reader a client of its own: a blocking XREADGROUP holds the connection it is
   * sent on, and a Cluster client has a single connection per node, shared by all its commands.
   */
  blocking?: boolean;
  /**
   * The longest BLOCK of this connection's reads: Redis sends nothing while a read blocks, so the
   * connection waits that much longer than the liveness bound before it takes Redis for lost.
   */
  blockMs?: number;
  /** Connects at the first command instead of at once (see testRedisConnection). */
  lazyConnect?: boolean;
  /**
   * Where the connection's errors go: the first of each outage, and its end. Default: a line on
   * stderr. A duplicate reports where its original does unless given its own.
   */
  log?: (message: string) => void;
}

/** `livenessMs`: see RedisTarget.REDIS_LIVENESS_TIMEOUT_MS. */
export function createRedis(url: string, options: RedisConnectionOptions, livenessMs = DEFAULT_REDIS_LIVENESS_TIMEOUT_MS): Redis {
  return reportingErrors(new Redis(url, { ...nodeOptions(options, livenessMs), retryStrategy: reconnectDelay }), options, livenessMs);
}

/** A Cluster client when `REDIS_CLUSTER_NODES` is set, else a client for `REDIS_URL`, with the same options either way. */
export function createRedisConnection(target: RedisTarget, options: RedisConnectionOptions): RedisConnection {
  const livenessMs = target.REDIS_LIVENESS_TIMEOUT_MS ?? DEFAULT_REDIS_LIVENESS_TIMEOUT_MS;
  if (!target.REDIS_CLUSTER_NODES?.trim()) return createRedis(target.REDIS_URL, options, livenessMs);
  const settings: ClusterOptions = {
    // Each node's connection watches its own liveness (socketTimeout), as a single server's does.
    redisOptions: nodeOptions(options, livenessMs),
    // Replicas may lag behind their master; the services read what they just wrote (projections, leases).
    scaleReads: 'master',
    lazyConnect: options.lazyConnect ?? false,
    enableAutoPipelining: !options.blocking,
    // Auto-pipelining routes by a command's first key; these container commands have none it
    // knows of, so it would route them by their subcommand (CREATE, GROUPS) to a wrong node.
    autoPipeliningIgnoredCommands: ['xgroup', 'xinfo'],
    clusterRetryStrategy: reconnectDelay,
    // Without it a node whose connection drops stays dropped until a MOVED reply refreshes the
    // topology, and a master that restarts without a failover sends none. A master that does not
    // come back, its replica promoted instead, is left by the slot map (followingFailovers).
    clusterNodeRetryStrategy: reconnectDelay,
  };
  return reportingErrors(new Cluster(parseClusterNodes(target.REDIS_CLUSTER_NODES), settings), options, livenessMs);
}

/** A new client to the same server or cluster, with its own options (a blocking reader, say). */
export function duplicateConnection(connection: RedisConnection, options: RedisConnectionOptions): RedisConnection {
  const origin = origins.get(connection);
  const reporting = { ...options, log: options.log ?? origin?.log };
  const livenessMs = origin?.livenessMs ?? DEFAULT_REDIS_LIVENESS_TIMEOUT_MS;
  if (!isCluster(connection)) {
    return reportingErrors(connection.duplicate({ ...nodeOptions(options, livenessMs), retryStrategy: reconnectDelay }), reporting, livenessMs);
  }
  const duplicate = connection.duplicate(undefined, {
    ...connection.options,
    redisOptions: { ...connection.options.redisOptions, ...nodeOptions(options, livenessMs) },
    enableAutoPipelining: !options.blocking,
  });
  return reportingErrors(duplicate, reporting, livenessMs);
}

/** Where each connection made here reports its errors, and its liveness bound, for its duplicates. */
const origins = new WeakMap<RedisConnection, { log: (message: string) => void; livenessMs: number }>();

/**
 * Without an `error` listener ioredis prints every failed reconnect with a stack (20 in 35 s while
 * Redis is down); this one reports an outage once, with its first error, and once more when the
 * connection is back. Commands meanwhile wait or fail on their own, as before.
 */
function reportingErrors<C extends RedisConnection>(connection: C, options: RedisConnectionOptions, livenessMs: number): C {
  const log = options.log ?? ((message: string) => process.stderr.write(`[redis] ${message}\n`));
  origins.set(connection, { log, livenessMs });
  pingingWhileIdle(connection, livenessMs);
  tidyingUpAtClose(connection);
  checkingLosses(connection, livenessMs);
  if (isCluster(connection)) followingFailovers(connection);
  let failing = false;
  connection.on('error', (error: Error) => {
    if (failing) return;
    failing = true;
    log(`Redis connection ${options.name} failed: ${error.message}; reconnecting (further errors are not logged until it is back)`);
  });
  connection.on('ready', () => {
    if (failing) log(`Redis connection ${options.name} is back`);
    failing = false;
  });
  warnOnceOfUnneededPassword();
  return connection;
}

/**
 * ioredis warns through console.warn at every connect of every client (a start makes 20 and more)
 * when REDIS_URL holds a password that the server does not ask for; the first warning says it all.
 */
const UNNEEDED_PASSWORD_WARNING = /^\[WARN\] (Redis server|This Redis server's `default` user) does not require a password/;
let passwordWarningFiltered = false;

function warnOnceOfUnneededPassword(): void {
  if (passwordWarningFiltered) return;
  passwordWarningFiltered = true;
  const warn = console.warn;
  let warned = false;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && UNNEEDED_PASSWORD_WARNING.test(args[0])) {
      if (warned) return;
      warned = true;
    }
    warn(...args);
  };
}

/**
 * Ends a connection at once, whatever its state, failing every command that waits on it (a
 * blocking read queued for the next reconnect included): a loop stopping during an outage then
 * sees its read fail instead of waiting for Redis forever. ioredis's disconnect() between two
 * reconnect attempts only cancels the next attempt; with no socket left to close, nothing fails
 * the queued commands. Starting that attempt now and disconnecting it at once does: the attempt is
 * abandoned before it opens a socket, and ioredis fails the queue as it ends the connection. The
 * commands that were under way when the connection dropped wait apart, to be resent once it is
 * ready again, and ending it fails none of them: they are failed here (see failCommandsToResend).
 * A Cluster client's node connections reconnect by themselves (clusterNodeRetryStrategy) and hold
 * the commands sent to them: its disconnect() drops every node from its pool, and each node the
 * pool drops is ended so (followingFailovers); the client ends once every node has, and fails its
 * own queue then. A Cluster client none of whose seeds ever answered has no node left between two
 * attempts to connect, so no node's end would end it: it stayed `disconnecting`, its commands
 * queued for ever; it is ended here as ioredis ends a client it will not reconnect.
 */
export function disconnectNow(connection: RedisConnection): void {
  if (connection.status === 'end') return;
  if (!isCluster(connection)) return endNode(connection);
  const nodeless = connection.nodes().length === 0 && connection.status !== 'wait';
  drainedOnce(connection);
  connection.disconnect();
  if (nodeless) endNodeless(connection as unknown as ClusterClosing);
}

/** One connection to one server ended at once, its commands failed (see disconnectNow). */
function endNode(node: Redis): void {
  if (node.status === 'end') return;
  if (node.status === 'reconnecting') node.connect().catch(() => undefined);
  node.disconnect();
  failCommandsToResend(node);
}

/**
 * How a Cluster client follows a failover, a master lost and its replica promoted. Its node
 * connections reconnect by themselves (clusterNodeRetryStrategy, for a master restarted in place),
 * and ioredis reloads the slot map only at a MOVED or CLUSTERDOWN reply or a closed connection: a
 * dead master's connection, reconnecting, gives none, so the client kept sending that master's
 * slots to it, every command failing after its 20 reconnects (a blocking read never), for as
 * long as the dead node stayed down. Each reconnect of a master's connection reloads the slot map
 * instead: until the failover it still names that master and nothing changes (a restart in place
 * goes as before); after it, it names the promoted replica, and the pool drops the dead node.
 * ioredis only disconnect()s a node it drops, which between two reconnect attempts ends nothing:
 * the commands queued for the dead node, or under way on it, waited for ever, and so did whatever
 * awaited them (a periodic sweep, the shutdown behind it). Each dropped node is ended as
 * disconnectNow ends a connection: its commands fail with `Connection is closed.`, which the
 * Cluster client retries on the slot's master in the new map.
 */
function followingFailovers(cluster: Cluster): void {
  const pool = poolOf(cluster);
  const reset = pool.reset.bind(pool);
  pool.reset = (nodes) => {
    const before = pool.getNodes();
    reset(nodes);
    const kept = new Set(pool.getNodes());
    for (const node of before) if (!kept.has(node)) endNode(node);
  };
  cluster.on('+node', (node: Redis) =>
    node.on('reconnecting', () => {
      if (cluster.status === 'ready' && cluster.nodes('master').includes(node)) cluster.refreshSlotsCache();
    }),
  );
}

/**
 * What ends a Cluster client, not in its typings. After disconnect() handleCloseEvent does not
 * reconnect: it sets the status `end` and fails the offline queue (the commands of a client
 * without auto-pipelining). An auto-pipelined command waits apart until the client has its slot
 * map: ioredis fails those only when a connect under way ends.
 */
interface ClusterClosing {
  handleCloseEvent(): void;
  invokeReadyDelayedCallbacks(error: Error): void;
}

function endNodeless(cluster: ClusterClosing): void {
  cluster.handleCloseEvent();
  // ioredis's own words for a Cluster client that ends unconnected.
  cluster.invokeReadyDelayedCallbacks(new Error('None of startup nodes is available'));
}

/**
 * ioredis's pool tells its Cluster client it is drained at the end of each node once it holds none,
 * and disconnect() empties it at once: the first tells the client it has closed, and the client
 * ends; when the nodes end on different ticks (one refused mid-connect, another between two
 * attempts), each later one set the ended client's status back to `close`, where a command waits
 * for ever instead of failing. The client is done with, so only the first counts.
 */
function drainedOnce(cluster: Cluster): void {
  const pool = poolOf(cluster);
  const listeners = pool.listeners('drain') as (() => void)[];
  pool.removeAllListeners('drain');
  pool.once('drain', () => listeners.forEach((listener) => listener()));
}

/**
 * A Cluster client's pool of node connections, not in its typings: it says when it is drained,
 * and reset() makes it hold the nodes of a new slot map (it makes, keeps or drops connections).
 */
interface ClusterPool extends EventEmitter {
  reset(nodes: unknown[]): void;
  getNodes(): Redis[];
}

function poolOf(cluster: Cluster): ClusterPool {
  return (cluster as unknown as { connectionPool: ClusterPool }).connectionPool;
}

/** What ioredis keeps, not in its typings, of the commands under way when a connection dropped. */
interface CommandsToResend {
  prevCommandQueue?: { length: number; shift(): { command: { reject(error: Error): void } } | undefined } | null;
}

/**
 * Fails the commands a dropped connection keeps to resend once it is ready again (a blocking read
 * sent before a silent network was noticed): a connection disconnected for good is never ready
 * again, and ioredis's end fails only the queues of the commands not sent yet or sent since, so
 * these waited forever. With the error ioredis gives a closed connection's commands.
 */
function failCommandsToResend(node: Redis): void {
  const queue = (node as unknown as CommandsToResend).prevCommandQueue;
  for (let item = queue?.shift(); item; item = queue?.shift()) item.command.reject(new Error('Connection is closed.'));
}

/**
 * Closes a connection for good: with a QUIT while Redis is reachable, so that what was sent before
 * is answered first; else, or once Redis is lost while the QUIT waits, at once (disconnectNow). A
 * QUIT sent during an outage waited for the reconnect, a stopping service with it.
 */
export async function closeConnection(connection: RedisConnection): Promise<void> {
  if (connection.status === 'end') return;
  if (connection.status === 'ready' && (await settlesWhileReachable(connection, connection.quit()))) return;
  disconnectNow(connection);
}

/**
 * Whether `work` settles (resolved or rejected) before `connection` loses Redis: false at once when
 * it has lost it already, or as soon as it loses it meanwhile. A shutdown waits on Redis so, and no
 * longer: during an outage it leaves undone what a crash would (unacked messages stay pending and
 * are reclaimed, each append expects its version) instead of waiting out the outage or its
 * commands' retries. Only a loss that lasts counts (see ConnectionLoss): a blip, a dropped socket
 * whose first reconnect succeeds, is waited through, before the wait or during it. A refused
 * connection counts as lost at its first failed reconnect (within the first retry delay, ~100 ms
 * after the drop), a silent network once the liveness bound (see nodeOptions) drops it. A Cluster
 * client counts as lost once it closes, or once one of its masters' connections does by that
 * rule: a replica's does not count, the client reads and writes on masters only.
 */
export function settlesWhileReachable(connection: RedisConnection, work: Promise<unknown>): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  if (!isReachable(connection)) return Promise.resolve(false);
  return Promise.race([settled, nextLoss(connection)]);
}

/** Each connection's next loss, shared by all who wait for it: a service's every sweep waits at once at shutdown. */
const nextLosses = new WeakMap<RedisConnection, Promise<false>>();

/** Resolves (to false) as the connection comes to count as lost (see settlesWhileReachable); listens once whoever waits. */
function nextLoss(connection: RedisConnection): Promise<false> {
  const waited = nextLosses.get(connection);
  if (waited) return waited;
  const loss = new Promise<false>((resolve) => {
    const stops: (() => void)[] = [];
    const lost = () => {
      for (const stop of stops.splice(0)) stop();
      nextLosses.delete(connection);
      resolve(false);
    };
    if (!isCluster(connection)) {
      stops.push(lossOf(connection).onLoss(lost));
      return;
    }
    // The client itself closes once it has dropped every node (its disconnect, or all ended).
    for (const event of ['close', 'end']) {
      connection.on(event, lost);
      stops.push(() => connection.off(event, lost));
    }
    // Every node is watched, as a replica may become a master meanwhile (a failover); a node counts
    // if it is a master as its loss comes. One that leaves the cluster's topology ends, and is no
    // longer among them by then.
    const watch = (node: Redis) => stops.push(lossOf(node).onLoss(() => connection.nodes('master').includes(node) && lost()));
    connection.nodes().forEach(watch);
    connection.on('+node', watch);
    stops.push(() => connection.off('+node', watch));
  });
  nextLosses.set(connection, loss);
  return loss;
}

/**
 * Whether the connection has Redis now, as settlesWhileReachable counts it: up, or in a drop whose
 * loss does not last so far; for a Cluster client, the client ready, and so each master's
 * connection (or waiting to connect at its first command).
 */
export function isReachable(connection: RedisConnection): boolean {
  if (!isCluster(connection)) return ['up', 'dropped'].includes(lossOf(connection).state);
  return connection.status === 'ready' && connection.nodes('master').every((node) => lossOf(node).state !== 'lost');
}

/** Each node connection's loss check; made as a connection is built here (checkingLosses), else at its first use. */
const losses = new WeakMap<Redis, ConnectionLoss>();

function lossOf(node: Redis, livenessMs = DEFAULT_REDIS_LIVENESS_TIMEOUT_MS): ConnectionLoss {
  let loss = losses.get(node);
  if (!loss) {
    loss = new ConnectionLoss(node, livenessMs);
    losses.set(node, loss);
  }
  return loss;
}

/** From the start, so that a drop just before a shutdown's wait is known to it as a drop, not taken for a loss. */
function checkingLosses(connection: RedisConnection, livenessMs: number): void {
  if (isCluster(connection)) connection.on('+node', (node: Redis) => lossOf(node, livenessMs));
  else lossOf(connection, livenessMs);
}

export function isCluster(connection: RedisConnection): connection is Cluster {
  return connection instanceof Cluster;
}

/** Resolves once the Cluster client has reloaded its slot map from a node, or failed to (each node tried). */
export function slotMapReloaded(cluster: Cluster): Promise<void> {
  return new Promise((resolve) => cluster.refreshSlotsCache(() => resolve()));
}

/**
 * The servers to SCAN or INFO: the connection itself, or every master of a cluster (a SCAN sent
 * through a Cluster client reaches one node only). Waits for the slot map, which is empty until
 * the Cluster client is ready.
 */
export async function masterNodes(connection: RedisConnection): Promise<Redis[]> {
  if (!isCluster(connection)) return [connection];
  if (connection.status === 'end') throw new Error('the Redis Cluster connection has ended');
  // A lazy client has sent nothing yet, so nothing would make it connect.
  if (connection.status === 'wait') await connection.connect();
  if (connection.status !== 'ready') await untilReady(connection);
  return connection.nodes('master');
}

function untilReady(cluster: Cluster): Promise<void> {
  return new Promise((resolve, reject) => {
    const onReady = () => {
      cluster.off('end', onEnd);
      resolve();
    };
    const onEnd = () => {
      cluster.off('ready', onReady);
      reject(new Error('the Redis Cluster connection ended before it was ready'));
    };
    cluster.once('ready', onReady);
    cluster.once('end', onEnd);
  });
}

/**
 * A silent network loss (packets dropped, a host frozen) closes no socket: without a bound, commands
 * would wait for their replies for the ~15 minutes TCP retransmits. socketTimeout destroys the
 * socket once Redis has sent nothing for `livenessMs` while a command awaits its reply; ioredis then
 * reconnects and resends or fails the commands, as after a restart. Any byte counts, so a large
 * reply does not trip it; a blocking read adds its block time, which Redis spends silent.
 */
function nodeOptions(options: RedisConnectionOptions, livenessMs: number): RedisOptions {
  return {
    socketTimeout: livenessMs + (options.blockMs ?? 0),
    connectionName: options.name,
    maxRetriesPerRequest: options.blocking ? null : 20,
    enableAutoPipelining: !options.blocking,
    lazyConnect: options.lazyConnect ?? false,
  };
}

/**
 * socketTimeout counts only while a command awaits its reply, so an idle connection would notice a
 * lost network only at its next command, and say ready meanwhile: a PING every half bound, sent
 * only when nothing else waits, keeps one reply awaited. Started at the first `ready`, so a lazy
 * connection that never connects runs no timer.
 */
function pingingWhileIdle(connection: RedisConnection, livenessMs: number): void {
  let timer: NodeJS.Timeout | undefined;
  const ping = () => {
    for (const node of isCluster(connection) ? connection.nodes() : [connection]) {
      if (node.status === 'ready' && node.commandQueue.length === 0) node.ping().catch(() => undefined);
    }
  };
  connection.on('ready', () => {
    timer ??= setInterval(ping, livenessMs / 2).unref();
  });
  connection.once('end', () => clearInterval(timer));
}

/** What ioredis keeps of a connection's socket, not in its typings: its socketTimeout timer, and its connector's socket. */
interface SocketState {
  socketTimeoutTimer?: NodeJS.Timeout;
  connector?: { stream?: { destroyed: boolean } };
}

/**
 * Two timers of ioredis outlive a socket that closed. It arms its socketTimeout timer for the
 * socket of the moment and clears it only when data comes on that socket: one that closes first
 * (an outage, a disconnect) leaves it running for up to the liveness bound plus a read's block;
 * meanwhile no command on the next socket arms a timer of its own, and once it fires it destroys
 * that next socket, however fresh. And a disconnect (a failed ready check's, a shutdown's) ends the
 * connector's last socket and destroys it on a 2 s timer unless it closes first, which a closed
 * one never does. Either kept a stopped process (a test's Jest worker) alive. Both go as each
 * socket closes: the timer cleared, the closed socket forgotten.
 */
function tidyingUpAtClose(connection: RedisConnection): void {
  const tidyUp = (node: Redis) =>
    node.on('close', () => {
      const state = node as unknown as SocketState;
      clearTimeout(state.socketTimeoutTimer);
      state.socketTimeoutTimer = undefined;
      if (state.connector?.stream?.destroyed) state.connector.stream = undefined;
    });
  if (isCluster(connection)) connection.on('+node', tidyUp);
  else tidyUp(connection);
}

function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** attempt, 2_000);
}
