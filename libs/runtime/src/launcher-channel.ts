import { SERVICE_NAMES, ServiceName } from '@app/messages';

/**
 * What a service tells the launcher that started it, over the IPC channel the launcher opens (a
 * service run on its own has none): that it listens. A health answer on its port alone does not
 * say that, since another process (a second `npm start`) may hold the port.
 */
export interface ListeningMessage {
  type: 'listening';
  service: ServiceName;
}

export function isListeningMessage(message: unknown): message is ListeningMessage {
  if (typeof message !== 'object' || message === null) return false;
  const { type, service } = message as Record<string, unknown>;
  return type === 'listening' && (SERVICE_NAMES as readonly unknown[]).includes(service);
}

export function reportListening(service: ServiceName): void {
  const message: ListeningMessage = { type: 'listening', service };
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
