import { createServer } from 'node:net';

/**
 * A port that was free a moment ago: binding port 0 lets the kernel pick. `host` undefined binds
 * every interface, as a service does by default, so a clash with anything there shows up here.
 */
export function findFreePort(host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('Could not determine a free port'))));
    });
  });
}

/** A free port for each name, no two the same (the kernel may hand out a just-closed port again). */
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
