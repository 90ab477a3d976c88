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
