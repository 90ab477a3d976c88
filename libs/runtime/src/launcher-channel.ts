/**
 * What a process the launcher starts (a service, the one process, the Odoo connector) tells it over
 * the IPC channel the launcher opens (one run on its own has none): that it listens, under its name.
 * The launcher restarts only a process that has listened (`npm start -- --split`), and a health
 * answer on its port alone does not say that, since another process (a second `npm start`) may
 * hold the port.
 */
export interface ListeningMessage<Name extends string = string> {
  type: 'listening';
  service: Name;
}

/**
 * Whether `message` says that one of `names` listens: the names the child speaks for (its own, the
 * four services for the one process), so a message naming another process does not count for it.
 */
export function isListeningMessage<Name extends string>(message: unknown, names: readonly Name[]): message is ListeningMessage<Name> {
  if (typeof message !== 'object' || message === null) return false;
  const { type, service } = message as Record<string, unknown>;
  return type === 'listening' && (names as readonly unknown[]).includes(service);
}

export function reportListening(name: string): void {
  const message: ListeningMessage = { type: 'listening', service: name };
  if (process.connected) process.send?.(message);
}

/**
 * Under the launcher a service sits in a process group of its own, so a launcher killed outright
 * (SIGKILL) would leave it serving and consuming, and the next start would find its port taken.
 * The IPC channel closes when the launcher dies: the service then stops as on SIGTERM. The channel
 * itself must not keep the process alive, and the output pipes lost their reader with the launcher:
 * writing to them must not crash the shutdown.
 */
export function stopWhenLauncherGoes(): void {
  if (!process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => {
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    process.kill(process.pid, 'SIGTERM');
  });
}
