import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';

/**
 * Where free ports are looked for: below Linux's ephemeral range (32768–60999), from which the
 * kernel takes the local port of every outgoing connection. A port found free in that range was
 * once taken, before the services listened on it, by a Redis connection of a test running beside.
 */
const FIRST_PORT = 20_000;
const PORT_COUNT = 12_000;
/** Draws before giving up: with a handful of listeners in the range, one draw nearly always does. */
const DRAWS = 200;

/**
 * Whether `port` can be listened on now. `host` undefined binds every interface, as a service does
 * by default, so a clash with anything there shows up here.
 */
export function portIsFree(port: number, host?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A port below the ephemeral range that was free a moment ago (see FIRST_PORT). */
export async function findFreePort(host?: string): Promise<number> {
  for (let draw = 0; draw < DRAWS; draw++) {
    const port = FIRST_PORT + randomInt(PORT_COUNT);
    if (await portIsFree(port, host)) return port;
  }
  throw new Error(`Could not find a free port in ${FIRST_PORT}-${FIRST_PORT + PORT_COUNT - 1}`);
}

/** A free port for each name, no two the same. */
export async function findFreePorts<Name extends string>(
  names: readonly Name[],
  host?: string,
  taken: ReadonlySet<number> = new Set(),
): Promise<Record<Name, number>> {
  const used = new Set(taken);
  const ports = {} as Record<Name, number>;
  for (const name of names) {
    let port = await findFreePort(host);
    while (used.has(port)) port = await findFreePort(host);
    used.add(port);
    ports[name] = port;
  }
  return ports;
}
