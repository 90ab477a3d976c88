import { ChildProcess, spawn } from 'node:child_process';
import { Socket } from 'node:net';

/**
 * How long the watchdog lets the clients of a private redis-server finish once the process that
 * started it is gone, before it shuts the server down anyway. Above the launcher's 10 s stop
 * timeout: the services of a launcher that died stop on their own (their IPC channel closed) and
 * still need Redis while they close.
 */
export const WATCHDOG_CLIENTS_GRACE_MS = 15_000;

/**
 * The watchdog, plain JavaScript run with `node -e`, so that it runs the same from dist/ and under
 * ts-jest. Arguments: the server's pid, its port, the grace in ms. Its stdin is a pipe from the
 * process that started the server, and the pipe ends when that process does, however it ends
 * (SIGKILL included, which no exit hook of its own sees). Then it waits until no client but itself
 * is connected, or the grace runs out, and sends SHUTDOWN, which fsyncs the AOF as a stop() does.
 * INFO must name the server's own pid first, so that a port another server took since is left alone.
 */
const WATCHDOG_PROGRAM = String.raw`
const net = require('node:net');
const [pid, port, graceMs] = process.argv.slice(1).map(Number);
const ask = (command) => new Promise((resolve) => {
  let reply = '';
  const socket = net.createConnection({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  socket.setTimeout(2000, () => socket.destroy());
  socket.on('connect', () => socket.write(command + '\r\nQUIT\r\n'));
  socket.on('data', (chunk) => (reply += chunk));
  socket.on('error', () => undefined);
  socket.on('close', () => resolve(reply));
});
const watch = async () => {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const info = await ask('INFO');
    if (!new RegExp('^process_id:' + pid + '\r?$', 'm').test(info)) return;
    const clients = Number(/^connected_clients:(\d+)/m.exec(info)?.[1]);
    if (clients <= 1 || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  process.stdout.write('redis-watchdog: the process that started redis-server ' + pid + ' is gone; sending SHUTDOWN\n');
  await ask('SHUTDOWN');
};
process.stdin.on('data', () => undefined);
process.stdin.once('end', () => void watch().finally(() => process.exit(0)));
`;

/**
 * Starts the watchdog of a private redis-server just spawned on `port`, writing its one line to the
 * file descriptor `output` (the server's log). Its work ends with the server's: when the server
 * exits (stopped, or failed to start) the watchdog is ended too. Neither it nor its pipe keeps this
 * process alive.
 */
export async function watchOverRedis(server: ChildProcess, port: number, output: number): Promise<void> {
  if (server.pid === undefined) throw new Error('redis-server started without a pid');
  // Detached like the server: a Ctrl-C in the terminal is for the launcher, which stops Redis itself.
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG_PROGRAM, String(server.pid), String(port), String(WATCHDOG_CLIENTS_GRACE_MS)], {
    detached: true,
    stdio: ['pipe', output, output],
  });
  await new Promise<void>((resolve, reject) => {
    watchdog.once('spawn', resolve);
    watchdog.once('error', reject);
  });
  const end = () => watchdog.kill();
  if (server.exitCode !== null || server.signalCode !== null) end();
  else server.once('exit', end);
  watchdog.unref();
  if (watchdog.stdin instanceof Socket) watchdog.stdin.unref();
}
